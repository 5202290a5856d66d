package io.modelegress.core.ratelimit;

import java.time.Duration;

/**
 * Whether a request that cannot start now may wait in the queue, from its estimated wait: a row of early returns
 * (queueing off, queue full, wait beyond max_queue_wait or the request's own deadline), else when it gives up.
 */
final class QueueAdmission {
    private static final long NEVER = Long.MAX_VALUE;

    private QueueAdmission() { }

    /** Admitted until {@code expiresAtNanos}, or refused for {@code refusal} (then {@code detail} says why). */
    record Decision(Rejection.Reason refusal, String detail, long expiresAtNanos) {
        boolean admitted() { return refusal == null; }
    }

    static Decision decide(RateLimits limits, int queued, WaitEstimate wait, long now, long deadlineNanos) {
        if (!limits.queueing()) {
            boolean noQueue = limits.maxQueue() == 0;
            return refused(noQueue ? Rejection.Reason.QUEUE_FULL : Rejection.Reason.WAIT_EXCEEDS_LIMIT,
                    "cannot start now and queueing is off (" + (noQueue ? "max_queue" : "max_queue_wait") + ": 0)");
        }
        if (queued >= limits.maxQueue()) {
            return refused(Rejection.Reason.QUEUE_FULL, String.format(
                    "%d requests already waiting (max_queue: %d)", queued, limits.maxQueue()));
        }
        long maxWait = limits.maxQueueWait().toNanos();
        long untilDeadline = deadlineNanos == UpstreamLimiter.NO_DEADLINE ? NEVER : deadlineNanos - now;
        if (wait.nanos() > Math.min(maxWait, untilDeadline)) {
            String bound = maxWait <= untilDeadline
                    ? "max_queue_wait: " + format(maxWait) : "the request's remaining deadline of " + format(untilDeadline);
            return refused(Rejection.Reason.WAIT_EXCEEDS_LIMIT, String.format(
                    "estimated wait %s (%s) exceeds %s", format(wait.nanos()), wait.limit(), bound));
        }
        return new Decision(null, null, untilDeadline < maxWait ? deadlineNanos : now + maxWait);
    }

    /** A ticket that waited {@code waitedNanos} without a start gives up; come back after {@code retryAfterNanos}. */
    static Admission.Rejected expired(String upstream, RateLimits limits, long waitedNanos, long retryAfterNanos) {
        return rejected(upstream, Rejection.Reason.WAIT_EXCEEDS_LIMIT, Duration.ofNanos(retryAfterNanos), waitedNanos,
                String.format("waited %s in the queue without a start (the request's deadline or max_queue_wait: %s)",
                        format(waitedNanos), format(limits.maxQueueWait().toNanos())));
    }

    /** The 429 answer: {@code detail} says which limit, after the upstream's name. */
    static Admission.Rejected rejected(String upstream, Rejection.Reason reason, Duration retryAfter, long waitedNanos,
                                       String detail) {
        return new Admission.Rejected(new Rejection(
                reason, retryAfter, Duration.ofNanos(waitedNanos), "upstream " + upstream + ": " + detail));
    }

    static String format(long nanos) {
        if (nanos >= 1_000_000_000L) return String.format("%.1fs", nanos / 1e9);
        return Math.max(0, nanos / 1_000_000) + "ms";
    }

    private static Decision refused(Rejection.Reason reason, String detail) {
        return new Decision(reason, detail, 0);
    }
}
