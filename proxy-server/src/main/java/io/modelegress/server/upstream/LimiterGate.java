package io.modelegress.server.upstream;

import io.modelegress.core.ratelimit.Admission;
import io.modelegress.core.ratelimit.Permit;
import io.modelegress.core.ratelimit.RateLimitHeaders;
import io.modelegress.core.ratelimit.RateLimitSnapshot;
import io.modelegress.core.ratelimit.Rejection;
import io.modelegress.core.ratelimit.Ticket;
import io.modelegress.core.ratelimit.TokenCount;
import io.modelegress.core.ratelimit.UpstreamLimiter;
import io.modelegress.core.time.Ticker;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.concurrent.EventExecutor;
import java.util.function.BooleanSupplier;
import java.util.function.LongConsumer;

/**
 * Asks an upstream's limiter for a start and brings the answer back to the exchange's event loop: at once, after a
 * wait in the queue (never blocking: the ticket completes later), or a rejection to answer with 429. And hands the
 * limiter the upstream's own quota signals from each response head.
 */
final class LimiterGate {
    interface Answer {
        void granted(Permit permit);

        void rejected(Rejection rejection);
    }

    private LimiterGate() {}

    /** The quota headers of a response head ({@link RateLimitHeaders#scan}): a 429's pace the limiter, others update it. */
    static void observe(UpstreamLimiter limiter, int status, HttpHeaders headers, Ticker ticker) {
        RateLimitSnapshot signals = RateLimitHeaders.scan(headers.iteratorCharSequence(), ticker);
        if (status == 429) limiter.onRateLimited(signals);
        else limiter.observe(signals);
    }

    /** Returns the ticket while queued (cancel it if the exchange ends first), or null when answered at once. */
    static Ticket submit(UpstreamLimiter limiter, TokenCount estimate, long deadlineNanos, EventExecutor loop,
                         BooleanSupplier finished, LongConsumer waited, Answer answer) {
        Admission a = limiter.submit(estimate, deadlineNanos);
        if (a instanceof Admission.Granted) {
            answer.granted(((Admission.Granted) a).permit());
            return null;
        }
        if (a instanceof Admission.Rejected) {
            answer.rejected(((Admission.Rejected) a).rejection());
            return null;
        }
        Ticket ticket = ((Admission.Queued) a).ticket();
        long since = System.nanoTime();
        ticket.outcome().whenCompleteAsync((outcome, err) -> {
            waited.accept(System.nanoTime() - since);
            if (finished.getAsBoolean()) {
                // The exchange ended while this was on its way: nobody will use the permit.
                if (outcome instanceof Admission.Granted) ((Admission.Granted) outcome).permit().release();
            } else if (outcome instanceof Admission.Granted) {
                answer.granted(((Admission.Granted) outcome).permit());
            } else if (outcome instanceof Admission.Rejected) {
                answer.rejected(((Admission.Rejected) outcome).rejection());
            } else {
                throw new IllegalStateException("rate limiter completed a ticket without an answer", err);
            }
        }, loop);
        return ticket;
    }
}
