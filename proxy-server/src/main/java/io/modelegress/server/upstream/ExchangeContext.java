package io.modelegress.server.upstream;

import io.modelegress.core.config.EgressConfig;
import io.modelegress.core.config.RouteSettings;
import io.modelegress.core.config.UpstreamSettings;
import io.modelegress.core.retry.RetryPolicy;
import io.modelegress.core.time.Ticker;
import io.modelegress.server.events.ExchangeEvents;
import io.modelegress.server.http.BodyBudget;

/**
 * What an exchange and its attempts need from the running configuration, passed in (the runtime implements it), so
 * this package depends on nothing above it.
 */
public interface ExchangeContext {
    EgressConfig config();

    ConnectionPool pool();

    /** The proxy hop for {@code u} (null: direct); throws a classified failure when its proxy is unusable. */
    ProxyHop proxyFor(UpstreamSettings u);

    /** The shared state (budget, breaker, limiter) of the upstream named {@code name}. */
    UpstreamState upstream(String name);

    RetryPolicy policy(RouteSettings route);

    Ticker ticker();

    ExchangeEvents events();

    BodyBudget bodies();

    /** Where each stateful Responses API response was made (server.responses_affinity), or null: not remembered. */
    default io.modelegress.core.route.ResponseAffinity responses() { return null; }
}
