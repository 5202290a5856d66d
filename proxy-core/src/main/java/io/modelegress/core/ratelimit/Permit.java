package io.modelegress.core.ratelimit;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The right to run one upstream attempt. Holding it counts against {@code max_concurrent}; releasing it frees the
 * slot and corrects the token accounting with what the attempt really used.
 */
public final class Permit {
    private final UpstreamLimiter limiter;
    private final TokenCount estimate;
    private final long startedAtNanos;
    private final Duration queueWait;
    final boolean fleetPaced;
    final long leaseId;
    private final AtomicBoolean released = new AtomicBoolean();

    Permit(UpstreamLimiter limiter, TokenCount estimate, long startedAtNanos, Duration queueWait) {
        this(limiter, estimate, startedAtNanos, queueWait, false, 0);
    }

    Permit(UpstreamLimiter limiter, TokenCount estimate, long startedAtNanos, Duration queueWait, boolean fleetPaced,
           long leaseId) {
        this.limiter = limiter;
        this.estimate = estimate;
        this.startedAtNanos = startedAtNanos;
        this.queueWait = queueWait;
        this.fleetPaced = fleetPaced;
        this.leaseId = leaseId;
    }

    /** The tokens charged at the start. */
    public TokenCount estimate() { return estimate; }

    /** Time spent in the queue before the start, for the access log and {@code egress_queue_wait_seconds}. */
    public Duration queueWait() { return queueWait; }

    long startedAtNanos() { return startedAtNanos; }

    /**
     * Ends the attempt: frees the concurrency slot and replaces the estimate by {@code actualUsage} in the token
     * bucket (null when the response carried no usage: the estimate then stands). Idempotent, so every exit path
     * may call it; returns whether this call was the one that released.
     */
    public boolean release(TokenCount actualUsage) {
        if (!released.compareAndSet(false, true)) return false;
        limiter.release(this, actualUsage);
        return true;
    }

    /** Ends the attempt when its usage is unknown. */
    public boolean release() {
        return release(null);
    }

    public boolean isReleased() { return released.get(); }
}
