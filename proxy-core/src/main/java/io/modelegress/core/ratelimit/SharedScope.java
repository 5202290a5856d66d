package io.modelegress.core.ratelimit;

import java.time.Duration;
import java.util.function.BiConsumer;

/**
 * The fleet-shared part of an upstream's limiter ({@code limits.scope: shared}): each queued ticket asks the
 * fleet's store when it may start (one reservation), and the answer sets its start time, rejects it, has it ask
 * again, or (the store cannot answer) lets it pace on the local fallback buckets. The {@code ...Locked} methods run
 * under the limiter's lock; {@link #send} after it is released.
 */
final class SharedScope {
    /** A ticket whose fleet answer has not come yet. */
    static final long PENDING = Long.MAX_VALUE;
    /** Without a queue, how long a request waits for the fleet's answer at most (the store's own timeout is shorter). */
    static final long NO_QUEUE_ANSWER_NANOS = Duration.ofSeconds(1).toNanos();

    private final FleetBudget fleet;
    private final String upstream;
    // Guarded by the limiter's lock: the store could not answer the last reservation.
    private boolean down;

    SharedScope(FleetBudget fleet, String upstream) {
        this.fleet = fleet;
        this.upstream = upstream;
    }

    /** Without a queue: the request waits for the fleet's answer only, until its deadline at most. */
    static long answerDeadline(long now, long deadlineNanos) {
        return Math.min(deadlineNanos, now + NO_QUEUE_ANSWER_NANOS);
    }

    FleetBudget budget() { return fleet; }

    /** Whether starts pace on the local fallback buckets (the store could not answer). */
    boolean downLocked() { return down; }

    /** Holds a queued ticket until the fleet answers; the reservation goes out once the lock is released. */
    void askLocked(Ticket t, LimiterEffects fx) {
        t.notBeforeNanos = PENDING;
        t.paceLocally = false;
        fx.reserve(t);
    }

    /** Sends one reservation; {@code back} hears the answer ({@link FleetAnswer#UNAVAILABLE} on any failure). */
    void send(Ticket t, long maxWaitNanos, BiConsumer<Ticket, FleetAnswer> back) {
        fleet.reserve(t.estimate, maxWaitNanos).whenComplete((answer, err) ->
                back.accept(t, answer != null ? answer : FleetAnswer.UNAVAILABLE));
    }

    /**
     * Applies the fleet's answer to {@code t} ({@code waiting}: still in the queue) at {@code now}. Returns the
     * rejection the limiter must take the ticket out with, else null.
     */
    Admission.Rejected applyLocked(Ticket t, FleetAnswer answer, boolean waiting, long now, StartPacer pacer, LimiterEffects fx) {
        if (answer instanceof FleetAnswer.Start) {
            FleetAnswer.Start start = (FleetAnswer.Start) answer;
            down = false;
            if (!waiting) {
                // Cancelled or expired while the answer was on its way: give the reservation back.
                fx.finish(start.leaseId(), t.estimate.total());
                return null;
            }
            t.notBeforeNanos = now + start.delayNanos();
            t.leaseId = start.leaseId();
        } else if (!waiting) {
            return null;
        } else if (answer instanceof FleetAnswer.Refused) {
            down = false;
            FleetAnswer.Refused r = (FleetAnswer.Refused) answer;
            return QueueAdmission.rejected(upstream, Rejection.Reason.WAIT_EXCEEDS_LIMIT, Duration.ofNanos(r.retryAfterNanos()),
                    now - t.enqueuedAtNanos, String.format(
                            "estimated wait %s (%s, shared by the fleet) exceeds max_queue_wait or the request's deadline",
                            QueueAdmission.format(r.retryAfterNanos()), r.limit()));
        } else if (answer instanceof FleetAnswer.Busy) {
            down = false;
            t.notBeforeNanos = now + Math.max(1, ((FleetAnswer.Busy) answer).retryNanos());
            t.leaseId = -1; // ask again at notBefore
        } else {
            down = true;
            pacer.rescale(fleet.replicas());
            t.notBeforeNanos = 0;
            t.paceLocally = true;
        }
        return null;
    }

    /** A permit the fleet paced has ended: frees its lease and gives back (or charges) the tokens it misjudged. */
    void released(Permit permit, TokenCount actualUsage) {
        long back = actualUsage == null ? 0 : permit.estimate().total() - actualUsage.total();
        if (permit.leaseId != 0 || back != 0) fleet.finish(permit.leaseId, back);
    }

    /** The upstream asked to hold every start for {@code nanos}: the whole fleet holds. */
    void publishPause(long nanos) {
        if (nanos > 0) fleet.pause(nanos);
    }
}
