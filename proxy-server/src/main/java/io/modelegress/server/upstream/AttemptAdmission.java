package io.modelegress.server.upstream;

import io.modelegress.core.ratelimit.Permit;
import io.modelegress.core.ratelimit.Rejection;
import io.modelegress.core.ratelimit.Ticket;
import io.modelegress.core.ratelimit.TokenCount;
import io.modelegress.server.events.ExchangeEvents;
import io.modelegress.server.http.RequestContext;
import io.netty.util.concurrent.EventExecutor;
import java.util.function.LongConsumer;

/**
 * The {@link UpstreamAttempt}'s side of its upstream's limiter ({@link LimiterGate}): the start asked for with the
 * request's token estimate and the deadline, a wait in the queue counted (its ticket kept, for an abort to cancel),
 * the answer passed on. One per attempt, in place of the answer and wait listeners the gate needs.
 */
final class AttemptAdmission implements LimiterGate.Answer, LongConsumer {
    private final UpstreamAttempt attempt;
    private final RequestContext rc;
    private final ExchangeEvents events;
    private Ticket queued;

    AttemptAdmission(UpstreamAttempt attempt, RequestContext rc, ExchangeEvents events) {
        this.attempt = attempt;
        this.rc = rc;
        this.events = events;
    }

    void submit(UpstreamState upstream, TokenCount estimate, long deadlineNanos, EventExecutor loop) {
        queued = LimiterGate.submit(upstream.limiter, estimate, deadlineNanos, loop, attempt::isOver, this, this);
    }

    /** The queue let the attempt start after {@code waited} nanoseconds. */
    @Override
    public void accept(long waited) {
        queued = null;
        rc.queueWaitNanos += waited;
        events.admitted(rc, attempt.upstreamState().settings.name(), waited);
    }

    @Override
    public void granted(Permit p) { attempt.admitted(p); }

    @Override
    public void rejected(Rejection r) { attempt.refuse(r.toException(), null); }

    /** The attempt is aborted: its place in the queue is given up (a permit granted meanwhile, the gate releases). */
    void cancel() {
        if (queued != null && !queued.cancel()) queued = null;
    }
}
