package io.modelegress.server.upstream;

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
 * budget, circuit breaker and rate limiter (which also takes the upstream's own rate-limit signals).
 */
public final class UpstreamState {
    public final UpstreamSettings settings;
    public final RetryBudget budget;
    public final CircuitBreaker breaker;
    public final UpstreamLimiter limiter;
    /** Whether request bodies are parsed to estimate tokens (only when tokens_per_minute is set). */
    public final boolean countsTokens;

    public UpstreamState(UpstreamSettings settings, RetrySettings retry, Ticker ticker, EgressMetrics metrics,
                         WakeScheduler scheduler) {
        this(settings, retry, ticker, metrics, scheduler, null);
    }

    /** {@code fleet}: this upstream's shared budgets ({@code limits.scope: shared}), or null for local ones. */
    public UpstreamState(UpstreamSettings settings, RetrySettings retry, Ticker ticker, EgressMetrics metrics,
                         WakeScheduler scheduler, FleetBudget fleet) {
        this(settings, retry, ticker, metrics, scheduler, fleet, null);
    }

    /** {@code publishEjection}: tells the fleet this upstream is ejected for the given millis (null: not shared). */
    public UpstreamState(UpstreamSettings settings, RetrySettings retry, Ticker ticker, EgressMetrics metrics,
                         WakeScheduler scheduler, FleetBudget fleet, java.util.function.LongConsumer publishEjection) {
        this.settings = settings;
        this.budget = RetryBudget.from(retry, ticker);
        this.breaker = CircuitBreaker.from(settings.breaker(), ticker, (from, to) -> {
            metrics.breakerTransition(settings.name(), to.name().toLowerCase(Locale.ROOT));
            if (to == CircuitBreaker.State.OPEN && publishEjection != null) publishEjection.accept(remainingOpenMillis());
        });
        LimitSettings l = settings.limits();
        this.limiter = new UpstreamLimiter(settings.name(), new RateLimits(l.maxConcurrent(), l.requestsPerMinute(),
                l.tokensPerMinute(), l.maxQueue(), l.maxQueueWait()), ticker, scheduler, fleet);
        this.countsTokens = l.tokensPerMinute() > 0;
        String u = settings.name();
        metrics.gauge("egress.breaker.open", () -> breaker.state() == CircuitBreaker.State.OPEN ? 1 : 0, "upstream", u);
        metrics.gauge("egress.queue.depth", limiter::queueDepth, "upstream", u);
        metrics.gauge("egress.upstream.in.flight", limiter::inFlight, "upstream", u);
    }

    private long remainingOpenMillis() {
        return breaker.remainingOpen().toMillis();
    }
}
