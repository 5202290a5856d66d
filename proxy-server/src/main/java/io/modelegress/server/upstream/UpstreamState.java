package io.modelegress.server.upstream;

import io.modelegress.core.breaker.Breakers;
import io.modelegress.core.breaker.CircuitBreaker;
import io.modelegress.core.config.LimitSettings;
import io.modelegress.core.config.RetrySettings;
import io.modelegress.core.config.UpstreamSettings;
import io.modelegress.core.ratelimit.FleetBudget;
import io.modelegress.core.ratelimit.RateLimits;
import io.modelegress.core.ratelimit.UpstreamLimiter;
import io.modelegress.core.ratelimit.WakeScheduler;
import io.modelegress.core.retry.RetryBudget;
import io.modelegress.core.time.Ticker;
import io.modelegress.server.metrics.EgressMetrics;
import java.util.Locale;

/**
 * What the sidecar remembers about one upstream across requests, shared by every route and event loop: its retry
 * budget, circuit breakers (its own and its (upstream, model) pairs') and rate limiter (which also takes the upstream's own rate-limit signals).
 */
public final class UpstreamState {
    public final UpstreamSettings settings;
    public final RetryBudget budget;
    /** The breaker of the upstream itself; {@link #breakers} also holds its (upstream, model) pairs. */
    public final CircuitBreaker breaker;
    public final Breakers breakers;
    public final UpstreamLimiter limiter;
    /** Whether request bodies are parsed to estimate tokens (only when tokens_per_minute is set). */
    public final boolean countsTokens;

    public UpstreamState(UpstreamSettings settings, RetrySettings retry, Ticker ticker, EgressMetrics metrics,
                         WakeScheduler scheduler) {
        this(settings, retry, ticker, metrics, scheduler, null, null, CircuitBreaker.Listener.NONE);
    }

    /**
     * {@code fleet}: this upstream's shared budgets ({@code limits.scope: shared}), or null for local ones;
     * {@code publishEjection}: tells the fleet this upstream is ejected for the given millis (null: not shared);
     * {@code onTransition}: also told of the upstream breaker's transitions (the active health check starts on OPEN).
     */
    public UpstreamState(UpstreamSettings settings, RetrySettings retry, Ticker ticker, EgressMetrics metrics,
                         WakeScheduler scheduler, FleetBudget fleet, java.util.function.LongConsumer publishEjection,
                         CircuitBreaker.Listener onTransition) {
        this.settings = settings;
        this.budget = RetryBudget.from(retry, ticker);
        this.breaker = CircuitBreaker.from(settings.breaker(), ticker, (from, to) -> {
            metrics.breakerTransition(settings.name(), to.name().toLowerCase(Locale.ROOT));
            if (to == CircuitBreaker.State.OPEN && publishEjection != null) publishEjection.accept(remainingOpenMillis());
            onTransition.onStateChange(from, to);
        });
        this.breakers = new Breakers(breaker, model -> {
            CircuitBreaker b = CircuitBreaker.from(settings.breaker(), ticker, CircuitBreaker.Listener.NONE);
            metrics.gauge("egress.breaker.open", () -> b.state() == CircuitBreaker.State.OPEN ? 1 : 0,
                    "upstream", settings.name(), "model", model);
            return b;
        });
        LimitSettings l = settings.limits();
        this.limiter = new UpstreamLimiter(settings.name(), new RateLimits(l.maxConcurrent(), l.requestsPerMinute(),
                l.tokensPerMinute(), l.maxQueue(), l.maxQueueWait()), ticker, scheduler, fleet);
        this.countsTokens = l.tokensPerMinute() > 0;
        String u = settings.name();
        // model="" is the upstream itself; a pair's gauge is registered when its breaker is made.
        metrics.gauge("egress.breaker.open", () -> breaker.state() == CircuitBreaker.State.OPEN ? 1 : 0, "upstream", u, "model", "");
        metrics.gauge("egress.queue.depth", limiter::queueDepth, "upstream", u);
        metrics.gauge("egress.upstream.in.flight", limiter::inFlight, "upstream", u);
    }

    private long remainingOpenMillis() {
        return breaker.remainingOpen().toMillis();
    }
}
