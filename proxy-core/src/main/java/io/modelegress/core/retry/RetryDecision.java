package io.modelegress.core.retry;

import java.time.Duration;
import java.util.Objects;

/**
 * What to do after a failed attempt: try the same upstream again, move to the route's next upstream, or stop.
 * A retry carries the wait; the server schedules it on its event loop (nothing here sleeps).
 */
public final class RetryDecision {
    public enum Action { RETRY_SAME, NEXT_UPSTREAM, STOP }

    /** Why no further attempt is made; {@link #tag()} is the bounded metric/log value. */
    public enum StopReason {
        /** The outcome is final: a 4xx, a certificate failure, a content-policy rejection, a reset mid-response... */
        NOT_RETRYABLE("not_retryable"),
        /** {@code retry.max_attempts} attempts were made, across all upstreams of the route. */
        ATTEMPTS_EXHAUSTED("attempts_exhausted"),
        /** The upstream's retry budget refused: too many retries in flight there already. */
        BUDGET_EXHAUSTED("budget_exhausted"),
        /** The request deadline has passed or would pass before the retry could start. */
        DEADLINE("deadline"),
        /** Part of the response already went to the agent. */
        COMMITTED("committed"),
        /** The upstream asked for a longer wait than {@code retry.max_retry_after}; its answer goes to the agent. */
        RETRY_AFTER_TOO_LONG("retry_after_too_long");

        private final String tag;

        StopReason(String tag) { this.tag = tag; }

        public String tag() { return tag; }
    }

    private final Action action;
    private final long delayNanos;
    private final StopReason stopReason;

    private RetryDecision(Action action, long delayNanos, StopReason stopReason) {
        this.action = action;
        this.delayNanos = delayNanos;
        this.stopReason = stopReason;
    }

    public static RetryDecision retrySame(Duration delay) {
        return new RetryDecision(Action.RETRY_SAME, checkedNanos(delay), null);
    }

    public static RetryDecision nextUpstream(Duration delay) {
        return new RetryDecision(Action.NEXT_UPSTREAM, checkedNanos(delay), null);
    }

    public static RetryDecision stop(StopReason reason) {
        return new RetryDecision(Action.STOP, 0, Objects.requireNonNull(reason, "reason"));
    }

    public Action action() { return action; }

    /** Whether another attempt is made (same or next upstream). */
    public boolean isRetry() { return action != Action.STOP; }

    /** How long to wait before the next attempt; zero when stopping. */
    public Duration delay() { return Duration.ofNanos(delayNanos); }

    public long delayNanos() { return delayNanos; }

    /** Why we stop; null unless {@link Action#STOP}. */
    public StopReason stopReason() { return stopReason; }

    private static long checkedNanos(Duration delay) {
        if (delay.isNegative()) throw new IllegalArgumentException("delay: " + delay + " (expected: >= 0)");
        return delay.toNanos();
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof RetryDecision)) return false;
        RetryDecision that = (RetryDecision) o;
        return action == that.action && delayNanos == that.delayNanos && stopReason == that.stopReason;
    }

    @Override
    public int hashCode() { return Objects.hash(action, delayNanos, stopReason); }

    @Override
    public String toString() {
        switch (action) {
            case RETRY_SAME: return "retrySame(" + delay() + ")";
            case NEXT_UPSTREAM: return "nextUpstream(" + delay() + ")";
            default: return "stop(" + stopReason.tag() + ")";
        }
    }
}
