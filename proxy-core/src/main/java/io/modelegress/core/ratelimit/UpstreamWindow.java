package io.modelegress.core.ratelimit;

/**
 * One upstream quota as last reported, moved forward in time until its reset.
 *
 * <p>OpenAI and Anthropic both meter with token buckets and report "reset" as the time until the quota is
 * full again. So when the limit is known we model linear refill from {@code remaining} now to {@code limit} at
 * the reset, and a start that needs a little waits a little, not until the full reset. Without a limit we can
 * only wait for the reset. Each start we let through is debited locally, so fifty agents do not all start against
 * the same "remaining" before the next response corrects it.
 *
 * <p>Not thread-safe: guarded by the owning limiter's lock.
 */
final class UpstreamWindow {
    private final long limit;
    private final long observedAtNanos;
    private final long resetAtNanos;
    private final double refillPerNano;
    private double remaining;

    UpstreamWindow(QuotaReading reading) {
        this.limit = reading.limit();
        this.observedAtNanos = reading.observedAtNanos();
        this.resetAtNanos = reading.resetAtNanos();
        this.remaining = reading.remaining();
        long span = resetAtNanos - observedAtNanos;
        this.refillPerNano = limit > reading.remaining() && span > 0 ? (double) (limit - reading.remaining()) / span : 0;
    }

    /** Once reset, the quota is full and says nothing any more. */
    boolean isOver(long nowNanos) {
        return nowNanos >= resetAtNanos;
    }

    /** How long until {@code need} fits in the quota; 0 when it fits now. */
    long nanosUntil(long nowNanos, long need) {
        if (isOver(nowNanos) || need <= 0) return 0;
        // A request larger than the whole quota can only start on a full quota.
        double wanted = limit == QuotaReading.UNKNOWN ? need : Math.min(need, limit);
        if (availableAt(nowNanos) >= wanted) return 0;
        if (refillPerNano <= 0) return resetAtNanos - nowNanos;
        double fitsAt = observedAtNanos + Math.ceil((wanted - remaining) / refillPerNano);
        long at = fitsAt >= resetAtNanos ? resetAtNanos : (long) fitsAt;
        return Math.max(1, at - nowNanos);
    }

    void debit(long cost) {
        remaining -= cost;
    }

    private double availableAt(long nowNanos) {
        double available = remaining + refillPerNano * (nowNanos - observedAtNanos);
        return limit == QuotaReading.UNKNOWN ? available : Math.min(limit, available);
    }
}
