package io.modelegress.core.ratelimit;

import static io.modelegress.core.ratelimit.Admissions.SMALL;
import static io.modelegress.core.ratelimit.Admissions.granted;
import static io.modelegress.core.ratelimit.Admissions.grantedLater;
import static io.modelegress.core.ratelimit.Admissions.limiter;
import static io.modelegress.core.ratelimit.Admissions.limits;
import static io.modelegress.core.ratelimit.Admissions.queued;
import static io.modelegress.core.ratelimit.Admissions.rejected;
import static io.modelegress.core.ratelimit.Admissions.rejectedLater;
import static io.modelegress.core.ratelimit.Admissions.stillWaiting;
import static io.modelegress.core.ratelimit.UpstreamLimiter.NO_DEADLINE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.modelegress.core.time.ManualTicker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class UpstreamLimiterQueueTest {
    private final ManualTicker ticker = new ManualTicker();
    private final FakeScheduler scheduler = new FakeScheduler(ticker);

    @Test
    void startsEveryRequestAtOnceWhenNoLimitIsSet() {
        UpstreamLimiter limiter = limiter(RateLimits.unlimited(), ticker, scheduler);
        for (int i = 0; i < 100; i++) {
            Permit permit = granted(limiter.submit(SMALL, NO_DEADLINE));
            assertEquals(Duration.ZERO, permit.queueWait());
        }
        assertEquals(100, limiter.inFlight());
        assertEquals(0, limiter.queueDepth());
    }

    @Test
    void capsConcurrencyAndStartsTheNextWaiterOnRelease() {
        UpstreamLimiter limiter = limiter(limits(2, 0, 0, 10, 30_000), ticker, scheduler);
        Permit first = granted(limiter.submit(SMALL, NO_DEADLINE));
        granted(limiter.submit(SMALL, NO_DEADLINE));
        Ticket third = queued(limiter.submit(SMALL, NO_DEADLINE));
        assertEquals(2, limiter.inFlight());
        assertEquals(1, limiter.queueDepth());

        scheduler.advanceMillis(1500);
        stillWaiting(third);
        first.release(TokenCount.of(90, 10));

        Permit thirdPermit = grantedLater(third);
        assertEquals(Duration.ofMillis(1500), thirdPermit.queueWait());
        assertEquals(2, limiter.inFlight());
        assertEquals(0, limiter.queueDepth());
    }

    @Test
    void startsWaitersInArrivalOrderEvenWhenALaterOneWouldFit() {
        // 60 000 tokens/min = 1000/s; the 5000-token head must wait for its tokens, the small ones behind it too.
        UpstreamLimiter limiter = limiter(limits(0, 0, 60_000, 10, 30_000), ticker, scheduler);
        granted(limiter.submit(TokenCount.of(5000, 0), NO_DEADLINE));
        List<Ticket> waiters = new ArrayList<>();
        waiters.add(queued(limiter.submit(TokenCount.of(5000, 0), NO_DEADLINE)));
        for (int i = 0; i < 3; i++) waiters.add(queued(limiter.submit(TokenCount.of(10, 0), NO_DEADLINE)));

        List<Integer> startOrder = new ArrayList<>();
        for (int i = 0; i < waiters.size(); i++) {
            int index = i;
            waiters.get(i).outcome().thenRun(() -> startOrder.add(index));
        }
        scheduler.advanceMillis(4900);
        assertEquals(List.of(), startOrder);
        scheduler.advanceMillis(20_000);
        assertEquals(List.of(0, 1, 2, 3), startOrder);
    }

    @ParameterizedTest(name = "rpm {0}, max_queue_wait {1} ms: {2} wait, then retry-after {3} ms")
    @CsvSource({
        "60,    5000,  5,  6000",   // one start a second: the 6th waiter would wait 6 s
        "60,     500,  0,  1000",
        "600,   1000, 10,  1100",   // one start per 100 ms
        "6,    30000,  3, 40000",   // one start per 10 s
    })
    void rejectsAtOnceWhenTheEstimatedWaitExceedsMaxQueueWait(long rpm, long maxQueueWaitMillis, int waiting,
                                                              long retryAfterMillis) {
        UpstreamLimiter limiter = limiter(limits(0, rpm, 0, 1000, maxQueueWaitMillis), ticker, scheduler);
        granted(limiter.submit(SMALL, NO_DEADLINE));
        for (int i = 0; i < waiting; i++) queued(limiter.submit(SMALL, NO_DEADLINE));

        Rejection rejection = rejected(limiter.submit(SMALL, NO_DEADLINE));
        assertEquals(Rejection.Reason.WAIT_EXCEEDS_LIMIT, rejection.reason());
        assertEquals(Duration.ofMillis(retryAfterMillis), rejection.retryAfter());
        assertEquals(Duration.ZERO, rejection.queueWait());
        assertTrue(rejection.message().contains("requests_per_minute: " + rpm), rejection.message());
        assertEquals(waiting, limiter.queueDepth());
    }

    @Test
    void rejectsAtOnceWhenTheWaitExceedsTheRequestsOwnDeadline() {
        UpstreamLimiter limiter = limiter(limits(0, 60, 0, 1000, 30_000), ticker, scheduler);
        granted(limiter.submit(SMALL, NO_DEADLINE));
        queued(limiter.submit(SMALL, NO_DEADLINE));

        Rejection rejection = rejected(limiter.submit(SMALL, ticker.nanos() + Duration.ofMillis(1500).toNanos()));
        assertEquals(Duration.ofSeconds(2), rejection.retryAfter());
        assertEquals("upstream openai: estimated wait 2.0s (requests_per_minute: 60) exceeds the request's "
                + "remaining deadline of 1.5s", rejection.message());
    }

    @Test
    void estimatesTheConcurrencyWaitFromHowLongPermitsAreHeld() {
        UpstreamLimiter limiter = limiter(limits(1, 0, 0, 1000, 5_000), ticker, scheduler);
        Permit first = granted(limiter.submit(SMALL, NO_DEADLINE));
        scheduler.advanceMillis(8000);
        first.release();
        granted(limiter.submit(SMALL, NO_DEADLINE));

        // One slot, permits held 8 s: a newcomer needs one release, 8 s away, more than max_queue_wait.
        Rejection rejection = rejected(limiter.submit(SMALL, NO_DEADLINE));
        assertEquals(Duration.ofSeconds(8), rejection.retryAfter());
        assertTrue(rejection.message().contains("max_concurrent: 1"), rejection.message());
    }

    @Test
    void rejectsWithQueueFullWhenMaxQueueRequestsAreWaiting() {
        UpstreamLimiter limiter = limiter(limits(1, 0, 0, 2, 30_000), ticker, scheduler);
        granted(limiter.submit(SMALL, NO_DEADLINE));
        queued(limiter.submit(SMALL, NO_DEADLINE));
        queued(limiter.submit(SMALL, NO_DEADLINE));

        Rejection rejection = rejected(limiter.submit(SMALL, NO_DEADLINE));
        assertEquals(Rejection.Reason.QUEUE_FULL, rejection.reason());
        assertEquals("upstream openai: 2 requests already waiting (max_queue: 2)", rejection.message());
        assertEquals(Rejection.MIN_RETRY_AFTER, rejection.retryAfter());
    }

    @ParameterizedTest(name = "max_queue {0}, max_queue_wait {1} ms -> {2}")
    @CsvSource({
        "0, 30000, QUEUE_FULL",
        "10,    0, WAIT_EXCEEDS_LIMIT",
    })
    void rejectsWhatCannotStartNowWhenQueueingIsOff(int maxQueue, long maxQueueWaitMillis, Rejection.Reason reason) {
        UpstreamLimiter limiter = limiter(limits(1, 0, 0, maxQueue, maxQueueWaitMillis), ticker, scheduler);
        granted(limiter.submit(SMALL, NO_DEADLINE));
        assertEquals(reason, rejected(limiter.submit(SMALL, NO_DEADLINE)).reason());
    }

    @Test
    void expiresAWaiterAtMaxQueueWaitWithARejection() {
        UpstreamLimiter limiter = limiter(limits(1, 0, 0, 10, 2_000), ticker, scheduler);
        granted(limiter.submit(SMALL, NO_DEADLINE));
        Ticket waiter = queued(limiter.submit(SMALL, NO_DEADLINE));

        scheduler.advanceMillis(1999);
        stillWaiting(waiter);
        scheduler.advanceMillis(1);
        Rejection rejection = rejectedLater(waiter);
        assertEquals(Rejection.Reason.WAIT_EXCEEDS_LIMIT, rejection.reason());
        assertEquals(Duration.ofSeconds(2), rejection.queueWait());
        assertEquals(0, limiter.queueDepth());
    }

    @Test
    void expiresAWaiterAtItsOwnDeadlineWhenThatComesFirst() {
        UpstreamLimiter limiter = limiter(limits(1, 0, 0, 10, 30_000), ticker, scheduler);
        granted(limiter.submit(SMALL, NO_DEADLINE));
        Ticket early = queued(limiter.submit(SMALL, ticker.nanos() + Duration.ofMillis(700).toNanos()));
        Ticket patient = queued(limiter.submit(SMALL, NO_DEADLINE));

        scheduler.advanceMillis(700);
        assertEquals(Duration.ofMillis(700), rejectedLater(early).queueWait());
        stillWaiting(patient);
        assertEquals(1, limiter.queueDepth());
    }

    @Test
    void cancelledWaiterLeavesTheQueueAndTheNextOneMovesUp() {
        UpstreamLimiter limiter = limiter(limits(1, 0, 0, 10, 30_000), ticker, scheduler);
        Permit running = granted(limiter.submit(SMALL, NO_DEADLINE));
        Ticket gone = queued(limiter.submit(SMALL, NO_DEADLINE));
        Ticket next = queued(limiter.submit(SMALL, NO_DEADLINE));

        assertTrue(gone.cancel());
        assertFalse(gone.cancel());
        assertEquals(1, limiter.queueDepth());
        running.release();

        grantedLater(next);
        stillWaiting(gone);
        scheduler.advanceMillis(60_000);
        stillWaiting(gone); // a cancelled ticket never completes, not even by expiring
    }

    @Test
    void cancelAfterTheGrantReturnsFalseAndThePermitMustBeReleased() {
        UpstreamLimiter limiter = limiter(limits(1, 0, 0, 10, 30_000), ticker, scheduler);
        Permit running = granted(limiter.submit(SMALL, NO_DEADLINE));
        Ticket waiter = queued(limiter.submit(SMALL, NO_DEADLINE));
        running.release();

        assertFalse(waiter.cancel());
        Permit late = grantedLater(waiter);
        assertTrue(late.release());
        assertEquals(0, limiter.inFlight());
    }

    @Test
    void releasingTwiceFreesOneSlotOnly() {
        UpstreamLimiter limiter = limiter(limits(2, 0, 0, 10, 30_000), ticker, scheduler);
        Permit first = granted(limiter.submit(SMALL, NO_DEADLINE));
        granted(limiter.submit(SMALL, NO_DEADLINE));
        assertTrue(first.release());
        assertFalse(first.release());
        assertEquals(1, limiter.inFlight());
    }
}
