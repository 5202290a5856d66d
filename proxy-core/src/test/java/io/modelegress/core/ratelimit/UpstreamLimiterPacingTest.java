package io.modelegress.core.ratelimit;

import static io.modelegress.core.ratelimit.Admissions.granted;
import static io.modelegress.core.ratelimit.Admissions.grantedLater;
import static io.modelegress.core.ratelimit.Admissions.limiter;
import static io.modelegress.core.ratelimit.Admissions.limits;
import static io.modelegress.core.ratelimit.Admissions.queued;
import static io.modelegress.core.ratelimit.Admissions.stillWaiting;
import static io.modelegress.core.ratelimit.UpstreamLimiter.NO_DEADLINE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.modelegress.core.time.ManualTicker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class UpstreamLimiterPacingTest {
    private final ManualTicker ticker = new ManualTicker();
    private final FakeScheduler scheduler = new FakeScheduler(ticker);

    /** An agent that sends, holds the answer for a while, and sends again, forever. */
    private final class Agent {
        private final UpstreamLimiter limiter;
        private final List<Long> starts;
        private final long holdMillis;

        Agent(UpstreamLimiter limiter, List<Long> starts, long holdMillis) {
            this.limiter = limiter;
            this.starts = starts;
            this.holdMillis = holdMillis;
        }

        void send() {
            Admission admission = limiter.submit(TokenCount.of(500, 200), NO_DEADLINE);
            if (admission instanceof Admission.Granted granted) {
                run(granted.permit());
            } else {
                queued(admission).outcome().thenAccept(later -> run(granted(later)));
            }
        }

        private void run(Permit permit) {
            starts.add(ticker.nanos());
            scheduler.schedule(() -> {
                permit.release(TokenCount.of(500, 150));
                send();
            }, Duration.ofMillis(holdMillis).toNanos());
        }
    }

    @Test
    void fiftyAgentsAt600RpmReachTheUpstreamAtTenRequestsASecond() {
        UpstreamLimiter limiter = limiter(limits(0, 600, 0, 1000, 30_000), ticker, scheduler);
        List<Long> starts = new ArrayList<>();
        for (int i = 0; i < 50; i++) new Agent(limiter, starts, 1000 + 97L * i).send();
        scheduler.advance(Duration.ofSeconds(60));

        int[] perSecond = new int[60];
        for (long start : starts) perSecond[(int) (start / 1_000_000_000L)]++;
        for (int second = 0; second < 60; second++) {
            assertTrue(Math.abs(perSecond[second] - 10) <= 0.5, "second " + second + ": " + perSecond[second]);
        }
        for (int i = 1; i < starts.size(); i++) {
            long gap = starts.get(i) - starts.get(i - 1);
            assertTrue(gap >= 99_000_000L, "gap " + gap + " ns before start " + i);
        }
    }

    @ParameterizedTest(name = "estimate 5000, actual {0}: the next waiter starts after {1} ms")
    @CsvSource({
        "1000, 1000",   // the over-estimate goes back to the bucket
        "5000, 5000",
        "9000, 9000",   // the under-estimate becomes a debt
        "-1,   5000",   // usage unknown: the estimate stands
    })
    void releasingWithTheRealUsageCorrectsTheTokenBucket(long actual, long nextStartsAfterMillis) {
        // 60 000 tokens/min = 1000 tokens/s; the bucket holds 50.
        UpstreamLimiter limiter = limiter(limits(0, 0, 60_000, 100, 30_000), ticker, scheduler);
        Permit first = granted(limiter.submit(TokenCount.of(4000, 1000), NO_DEADLINE));
        Ticket next = queued(limiter.submit(TokenCount.of(4000, 1000), NO_DEADLINE));
        first.release(actual < 0 ? null : TokenCount.of(actual, 0));

        scheduler.advanceMillis(nextStartsAfterMillis - 1);
        stillWaiting(next);
        scheduler.advanceMillis(1);
        assertEquals(Duration.ofMillis(nextStartsAfterMillis), grantedLater(next).queueWait());
    }

    @Test
    void tokensPerMinuteSpacesLargeRequestsByTheirSize() {
        UpstreamLimiter limiter = limiter(limits(0, 0, 60_000, 100, 60_000), ticker, scheduler);
        granted(limiter.submit(TokenCount.of(2000, 0), NO_DEADLINE));
        Ticket second = queued(limiter.submit(TokenCount.of(3000, 0), NO_DEADLINE));
        Ticket third = queued(limiter.submit(TokenCount.of(10, 0), NO_DEADLINE));

        scheduler.advanceMillis(2000);
        grantedLater(second);
        stillWaiting(third);
        scheduler.advanceMillis(2990);
        grantedLater(third);
    }
}
