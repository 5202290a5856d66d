package io.modelegress.core.retry;

import io.modelegress.core.config.RetrySettings;
import io.modelegress.core.time.Ticker;

import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Limits retries to one upstream so that a failing upstream does not get its load multiplied by
 * {@code retry.max_attempts} (a retry storm). One instance per upstream, shared by all requests; lock-free.
 *
 * <h2>Accounting</h2>
 * A retry is admitted when either holds:
 * <ol>
 *   <li><b>ratio</b> (Envoy's {@code retry_budget.budget_percent}): after admitting it, the retries in flight to this
 *       upstream are at most {@code ratio} × the attempts in flight to it;</li>
 *   <li><b>reserve</b> (Finagle's {@code minRetriesPerSec}): a token bucket refilled at {@code minPerSecond} per
 *       second, holding at most one second's worth, has a token. This lets a quiet sidecar (one agent, one request in
 *       flight, where any ratio rounds to zero) still retry.</li>
 * </ol>
 * Either way the retry then counts as in flight until it is returned. The server drives it so:
 * <ul>
 *   <li>{@link #onRequestStart()} / {@link #onRequestEnd()} around every attempt to this upstream, first or retry;</li>
 *   <li>{@link #tryAcquireRetry()} before retrying this upstream (the policy calls it as its last check); every
 *       {@code true} is matched by exactly one {@link #onRetryEnd()}, when that retry attempt ends or when it is
 *       abandoned during its back-off (agent gone, deadline). A retry waiting out its back-off therefore already
 *       counts, so retries cannot pile up behind a long {@code Retry-After}.</li>
 * </ul>
 * Checks and updates race benignly: two callers may each see room for the last slot; the compare-and-set on the
 * retry count makes only one of them take it.
 */
public final class RetryBudget {
    private final double ratio;
    private final long reserveIntervalNanos;   // time to refill one reserve token; 0 = no reserve
    private final long reserveCapacityNanos;   // one second's worth of tokens, as time
    private final Ticker ticker;

    private final AtomicLong activeRequests = new AtomicLong();
    private final AtomicLong activeRetries = new AtomicLong();
    // GCRA form of the token bucket: the time at which the bucket would be full again. One CAS per grant.
    private final AtomicLong reserveFullAt;

    private RetryBudget(double ratio, int minPerSecond, Ticker ticker) {
        this.ratio = ratio;
        this.reserveIntervalNanos = minPerSecond == 0 ? 0 : 1_000_000_000L / minPerSecond;
        this.reserveCapacityNanos = reserveIntervalNanos * minPerSecond;
        this.ticker = ticker;
        this.reserveFullAt = new AtomicLong(ticker.nanos());
    }

    /**
     * {@code retry.budget}.
     *
     * @param ratio        retries in flight allowed per attempt in flight, e.g. 0.2
     * @param minPerSecond retries per second allowed whatever the ratio says
     */
    public static RetryBudget of(double ratio, int minPerSecond, Ticker ticker) {
        if (!(ratio >= 0) || Double.isInfinite(ratio)) {
            throw new IllegalArgumentException("retry.budget.ratio: " + ratio + " (expected: >= 0)");
        }
        if (minPerSecond < 0 || minPerSecond > 1_000_000_000) {
            throw new IllegalArgumentException(
                    "retry.budget.min_per_second: " + minPerSecond + " (expected: 0..1000000000)");
        }
        return new RetryBudget(ratio, minPerSecond, Objects.requireNonNull(ticker, "ticker"));
    }

    /** {@code retry.budget} from the global retry settings; one budget per upstream. */
    public static RetryBudget from(RetrySettings retry, Ticker ticker) {
        return of(retry.budgetRatio(), retry.budgetMinPerSecond(), ticker);
    }

    /** An attempt (first or retry) to this upstream started. */
    public void onRequestStart() { activeRequests.incrementAndGet(); }

    /** An attempt to this upstream ended, however it ended. */
    public void onRequestEnd() { decrementToZero(activeRequests); }

    /** Admits one retry to this upstream, or refuses; see the class comment for the rules. */
    public boolean tryAcquireRetry() {
        for (;;) {
            long retries = activeRetries.get();
            // The epsilon keeps e.g. 0.29 x 100 = 28.999999999999996 from costing a slot.
            if (retries + 1 > ratio * activeRequests.get() + 1e-9) break;
            if (activeRetries.compareAndSet(retries, retries + 1)) return true;
        }
        if (tryTakeReserveToken()) {
            activeRetries.incrementAndGet();
            return true;
        }
        return false;
    }

    /** Returns a retry admitted by {@link #tryAcquireRetry()}. */
    public void onRetryEnd() { decrementToZero(activeRetries); }

    public long activeRequests() { return activeRequests.get(); }

    public long activeRetries() { return activeRetries.get(); }

    private boolean tryTakeReserveToken() {
        if (reserveIntervalNanos == 0) return false;
        for (;;) {
            long now = ticker.nanos();
            long fullAt = reserveFullAt.get();
            long next = Math.max(fullAt, now) + reserveIntervalNanos;
            if (next - now > reserveCapacityNanos) return false;
            if (reserveFullAt.compareAndSet(fullAt, next)) return true;
        }
    }

    // A missed or doubled call is a server bug; clamping keeps it from turning into unlimited retries.
    private static void decrementToZero(AtomicLong counter) {
        counter.getAndUpdate(v -> v > 0 ? v - 1 : 0);
    }

    @Override
    public String toString() {
        return "RetryBudget{ratio=" + ratio + ", activeRequests=" + activeRequests + ", activeRetries=" + activeRetries + '}';
    }
}
