package io.modelegress.core.ratelimit;

import static io.modelegress.core.ratelimit.Admissions.SMALL;
import static io.modelegress.core.ratelimit.Admissions.granted;
import static io.modelegress.core.ratelimit.Admissions.grantedLater;
import static io.modelegress.core.ratelimit.Admissions.limiter;
import static io.modelegress.core.ratelimit.Admissions.limits;
import static io.modelegress.core.ratelimit.Admissions.queued;
import static io.modelegress.core.ratelimit.Admissions.stillWaiting;
import static io.modelegress.core.ratelimit.UpstreamLimiter.NO_DEADLINE;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.modelegress.core.time.ManualTicker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * An upstream with no limit of ours starts and releases without the limiter's lock while nothing holds starts:
 * the upstream's own word (a 429's pause, a quota it reported) must still hold them, and the counts must stay right.
 */
class UpstreamLimiterOpenPathTest {
    private final ManualTicker ticker = new ManualTicker();
    private final FakeScheduler scheduler = new FakeScheduler(ticker);
    private final UpstreamLimiter limiter = limiter(limits(0, 0, 0, 100, 30_000), ticker, scheduler);

    private long in(long millis) {
        return ticker.nanos() + Duration.ofMillis(millis).toNanos();
    }

    @Test
    void startsGoStraightThroughUntilA429PausesThemAndAgainOnceThePauseIsOver() {
        List<Permit> running = new ArrayList<>();
        for (int i = 0; i < 3; i++) running.add(granted(limiter.submit(SMALL, NO_DEADLINE)));
        assertEquals(3, limiter.inFlight());

        limiter.onRateLimited(new RateLimitSnapshot(Map.of(), in(1000)));
        Ticket held = queued(limiter.submit(SMALL, NO_DEADLINE));
        running.forEach(Permit::release); // releases during the pause do not start it early
        stillWaiting(held);
        assertEquals(0, limiter.inFlight());

        scheduler.advanceMillis(1000);
        Permit late = grantedLater(held);
        assertEquals(1, limiter.inFlight());
        Permit next = granted(limiter.submit(SMALL, NO_DEADLINE)); // the pause is over and nobody waits
        late.release();
        next.release();
        assertEquals(0, limiter.inFlight());
        assertEquals(0, limiter.queueDepth());
    }

    @Test
    void aQuotaTheUpstreamReportedStillChargesEveryStart() {
        limiter.observe(new RateLimitSnapshot(Map.of(QuotaKind.REQUESTS,
                new QuotaReading(QuotaReading.UNKNOWN, 2, ticker.nanos(), in(10_000))), RateLimitSnapshot.NO_RETRY_AFTER));
        granted(limiter.submit(SMALL, NO_DEADLINE));
        granted(limiter.submit(SMALL, NO_DEADLINE));
        Ticket third = queued(limiter.submit(SMALL, NO_DEADLINE)); // two were left, no limit named: wait for the reset
        scheduler.advanceMillis(9_999);
        stillWaiting(third);
        scheduler.advanceMillis(1);
        grantedLater(third);
        // The window is over and forgotten: starts skip the lock again.
        granted(limiter.submit(SMALL, NO_DEADLINE));
        assertEquals(4, limiter.inFlight());
    }

    @Test
    void twoThreadsStartingAndReleasingAtOnceLeaveNothingInFlightAndAPauseStillHolds() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            CyclicBarrier go = new CyclicBarrier(2);
            List<Future<Integer>> done = new ArrayList<>();
            for (int t = 0; t < 2; t++) {
                done.add(pool.submit(() -> {
                    go.await(10, TimeUnit.SECONDS);
                    int granted = 0;
                    for (int i = 0; i < 100_000; i++) {
                        Admission a = limiter.submit(SMALL, NO_DEADLINE);
                        if (a instanceof Admission.Granted g) {
                            granted++;
                            g.permit().release();
                        }
                    }
                    return granted;
                }));
            }
            for (Future<Integer> f : done) assertEquals(100_000, f.get(30, TimeUnit.SECONDS));
        } finally {
            pool.shutdownNow();
        }
        assertEquals(0, limiter.inFlight());
        limiter.onRateLimited(new RateLimitSnapshot(Map.of(), in(500)));
        stillWaiting(queued(limiter.submit(SMALL, NO_DEADLINE)));
    }
}
