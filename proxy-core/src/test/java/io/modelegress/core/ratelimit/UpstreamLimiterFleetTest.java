package io.modelegress.core.ratelimit;

import static io.modelegress.core.ratelimit.Admissions.SMALL;
import static io.modelegress.core.ratelimit.Admissions.grantedLater;
import static io.modelegress.core.ratelimit.Admissions.limits;
import static io.modelegress.core.ratelimit.Admissions.queued;
import static io.modelegress.core.ratelimit.Admissions.rejected;
import static io.modelegress.core.ratelimit.Admissions.rejectedLater;
import static io.modelegress.core.ratelimit.Admissions.stillWaiting;
import static io.modelegress.core.ratelimit.UpstreamLimiter.NO_DEADLINE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.modelegress.core.time.ManualTicker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.LongConsumer;
import org.junit.jupiter.api.Test;

/** limits.scope: shared: the limiter keeps its queue and fast 429, and the fleet's store says when a start may happen. */
class UpstreamLimiterFleetTest {
    private final ManualTicker ticker = new ManualTicker();
    private final FakeScheduler scheduler = new FakeScheduler(ticker);
    private final FakeFleet fleet = new FakeFleet();

    /** A store the test answers by hand. */
    static class FakeFleet implements FleetBudget {
        record Ask(TokenCount estimate, long maxWaitNanos, CompletableFuture<FleetAnswer> answer) { }

        final List<Ask> asks = new ArrayList<>();
        final List<long[]> finishes = new ArrayList<>();
        final List<Long> pauses = new ArrayList<>();
        int replicas = 1;
        LongConsumer remotePause;

        @Override
        public CompletionStage<FleetAnswer> reserve(TokenCount estimate, long maxWaitNanos) {
            Ask a = new Ask(estimate, maxWaitNanos, new CompletableFuture<>());
            asks.add(a);
            return a.answer;
        }

        @Override public void finish(long leaseId, long tokensBack) { finishes.add(new long[] {leaseId, tokensBack}); }

        @Override public void pause(long nanos) { pauses.add(nanos); }

        @Override public int replicas() { return replicas; }

        @Override public void onRemotePause(LongConsumer pauseForNanos) { remotePause = pauseForNanos; }

        void answer(int i, FleetAnswer a) { asks.get(i).answer.complete(a); }
    }

    private UpstreamLimiter shared(RateLimits limits) {
        return new UpstreamLimiter("openai", limits, ticker, scheduler, fleet);
    }

    @Test
    void startsWhenTheFleetSaysAndNotBefore() {
        UpstreamLimiter limiter = shared(limits(0, 600, 0, 100, 30_000));
        Ticket first = queued(limiter.submit(SMALL, NO_DEADLINE));
        Ticket second = queued(limiter.submit(SMALL, NO_DEADLINE));
        assertEquals(2, fleet.asks.size(), "one reservation per request, sent at arrival");
        assertEquals(Duration.ofSeconds(30).toNanos(), fleet.asks.get(0).maxWaitNanos(), "the wait the fleet may give");
        fleet.answer(0, new FleetAnswer.Start(0, 0));
        fleet.answer(1, new FleetAnswer.Start(Duration.ofMillis(100).toNanos(), 0));
        grantedLater(first);
        stillWaiting(second);
        scheduler.advanceMillis(99);
        stillWaiting(second);
        scheduler.advanceMillis(1);
        grantedLater(second);
    }

    @Test
    void theLocalBucketsDoNotPaceWhatTheFleetPaced() {
        // 60 rpm locally would space starts by 1 s; the fleet's answer alone decides.
        UpstreamLimiter limiter = shared(limits(0, 60, 0, 100, 30_000));
        List<Ticket> tickets = new ArrayList<>();
        for (int i = 0; i < 5; i++) tickets.add(queued(limiter.submit(SMALL, NO_DEADLINE)));
        for (int i = 0; i < 5; i++) fleet.answer(i, new FleetAnswer.Start(0, 0));
        tickets.forEach(Admissions::grantedLater);
    }

    @Test
    void aRefusalIsTheFast429WithTheFleetsWait() {
        UpstreamLimiter limiter = shared(limits(0, 600, 0, 100, 2_000));
        Ticket t = queued(limiter.submit(SMALL, NO_DEADLINE));
        fleet.answer(0, new FleetAnswer.Refused(Duration.ofSeconds(5).toNanos(), "requests_per_minute: 600"));
        Rejection r = rejectedLater(t);
        assertEquals(Rejection.Reason.WAIT_EXCEEDS_LIMIT, r.reason());
        assertEquals(Duration.ofSeconds(5), r.retryAfter());
        assertTrue(r.message().contains("requests_per_minute: 600") && r.message().contains("fleet"), r.message());
        assertEquals(0, limiter.queueDepth());
    }

    @Test
    void theLocalQueueLimitStillRejectsOnArrival() {
        UpstreamLimiter limiter = shared(limits(0, 600, 0, 1, 30_000));
        queued(limiter.submit(SMALL, NO_DEADLINE));
        assertEquals(Rejection.Reason.QUEUE_FULL, rejected(limiter.submit(SMALL, NO_DEADLINE)).reason());
        assertEquals(1, fleet.asks.size(), "a request refused locally costs the fleet nothing");
    }

    @Test
    void aStoreThatCannotAnswerPacesLocallyAtTheReplicasShare() {
        fleet.replicas = 4;
        UpstreamLimiter limiter = shared(limits(0, 600, 0, 100, 30_000)); // 600 / 4 = 150 rpm: one every 400 ms
        List<Ticket> tickets = new ArrayList<>();
        for (int i = 0; i < 3; i++) tickets.add(queued(limiter.submit(SMALL, NO_DEADLINE)));
        for (int i = 0; i < 3; i++) fleet.answer(i, FleetAnswer.UNAVAILABLE);
        grantedLater(tickets.get(0));
        stillWaiting(tickets.get(1));
        scheduler.advanceMillis(399);
        stillWaiting(tickets.get(1));
        scheduler.advanceMillis(1);
        grantedLater(tickets.get(1));
        stillWaiting(tickets.get(2));
        scheduler.advanceMillis(400);
        grantedLater(tickets.get(2));
    }

    @Test
    void aFailedReservationIsUnavailableNotAnError() {
        UpstreamLimiter limiter = shared(limits(0, 600, 0, 100, 30_000));
        Ticket t = queued(limiter.submit(SMALL, NO_DEADLINE));
        fleet.asks.get(0).answer().completeExceptionally(new IllegalStateException("connection refused"));
        grantedLater(t);
    }

    @Test
    void a429IsPublishedToTheFleetAndARemotePauseHoldsTheQueue() {
        UpstreamLimiter limiter = shared(limits(0, 600, 0, 100, 30_000));
        long twoSeconds = Duration.ofSeconds(2).toNanos();
        limiter.onRateLimited(new RateLimitSnapshot(Map.of(), ticker.nanos() + twoSeconds));
        assertEquals(List.of(twoSeconds), fleet.pauses);

        UpstreamLimiter other = new UpstreamLimiter("openai", limits(0, 600, 0, 100, 30_000), ticker, scheduler,
                new FakeFleet() {
                    @Override public CompletionStage<FleetAnswer> reserve(TokenCount e, long w) {
                        return CompletableFuture.completedFuture(new FleetAnswer.Start(0, 0));
                    }

                    @Override public void onRemotePause(LongConsumer p) { fleet.remotePause = p; }
                });
        fleet.remotePause.accept(twoSeconds);
        Ticket held = queued(other.submit(SMALL, NO_DEADLINE));
        stillWaiting(held);
        scheduler.advanceMillis(1999);
        stillWaiting(held);
        scheduler.advanceMillis(1);
        grantedLater(held);
    }

    @Test
    void releaseGivesTheLeaseAndTheOverEstimateBackToTheFleet() {
        UpstreamLimiter limiter = shared(limits(0, 0, 100_000, 100, 30_000));
        Ticket t = queued(limiter.submit(TokenCount.of(1000, 500), NO_DEADLINE));
        fleet.answer(0, new FleetAnswer.Start(0, 42));
        grantedLater(t).release(TokenCount.of(1000, 100));
        assertEquals(1, fleet.finishes.size());
        assertEquals(42, fleet.finishes.get(0)[0]);
        assertEquals(400, fleet.finishes.get(0)[1]);
    }

    @Test
    void anAnswerForACancelledRequestIsGivenBack() {
        UpstreamLimiter limiter = shared(limits(0, 600, 0, 100, 30_000));
        Ticket t = queued(limiter.submit(SMALL, NO_DEADLINE));
        assertTrue(t.cancel());
        fleet.answer(0, new FleetAnswer.Start(0, 7));
        assertEquals(7, fleet.finishes.get(0)[0]);
        assertEquals(SMALL.total(), fleet.finishes.get(0)[1]);
    }

    @Test
    void aBusyFleetIsAskedAgainWhenASlotMayBeFree() {
        UpstreamLimiter limiter = shared(limits(2, 0, 0, 100, 30_000));
        Ticket t = queued(limiter.submit(SMALL, NO_DEADLINE));
        fleet.answer(0, new FleetAnswer.Busy(Duration.ofMillis(50).toNanos()));
        scheduler.advanceMillis(49);
        assertEquals(1, fleet.asks.size());
        scheduler.advanceMillis(1);
        assertEquals(2, fleet.asks.size(), "asked again once the hint passed");
        fleet.answer(1, new FleetAnswer.Start(0, 9));
        grantedLater(t);
    }

    @Test
    void withoutAQueueTheFleetMustAllowAnImmediateStart() {
        UpstreamLimiter limiter = shared(limits(0, 600, 0, 0, 0));
        Ticket t = queued(limiter.submit(SMALL, NO_DEADLINE));
        assertEquals(0, fleet.asks.get(0).maxWaitNanos());
        fleet.answer(0, new FleetAnswer.Start(0, 0));
        grantedLater(t);
    }
}
