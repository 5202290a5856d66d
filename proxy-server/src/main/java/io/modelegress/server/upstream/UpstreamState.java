package io.modelegress.server.upstream;

import io.modelegress.core.breaker.CircuitBreaker;
import io.modelegress.core.config.UpstreamSettings;
import io.modelegress.core.retry.RetryBudget;
import io.modelegress.core.time.Ticker;
import io.modelegress.server.metrics.EgressMetrics;
import io.modelegress.core.config.RetrySettings;

/** What the sidecar remembers about one upstream across requests: its retry budget and its circuit breaker. */
public final class UpstreamState {
    public final UpstreamSettings settings;
    public final RetryBudget budget;
    public final CircuitBreaker breaker;

    public UpstreamState(UpstreamSettings settings, RetrySettings retry, Ticker ticker, EgressMetrics metrics) {
        this.settings = settings;
        this.budget = RetryBudget.from(retry, ticker);
        this.breaker = CircuitBreaker.from(settings.breaker(), ticker,
                (from, to) -> metrics.breakerTransition(settings.name(), to.name().toLowerCase(java.util.Locale.ROOT)));
        metrics.gauge("egress.breaker.open", () -> breaker.state() == CircuitBreaker.State.OPEN ? 1 : 0, "upstream", settings.name());
    }
}
