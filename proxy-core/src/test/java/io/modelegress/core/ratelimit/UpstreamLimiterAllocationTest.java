package io.modelegress.core.ratelimit;

import static io.modelegress.core.ratelimit.Admissions.granted;
import static io.modelegress.core.ratelimit.Admissions.limiter;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.modelegress.core.time.ManualTicker;
import java.lang.management.ManagementFactory;
import org.junit.jupiter.api.Test;

/**
 * Every request asks its upstream's limiter for a start and gives the permit back, limits set or not (issue 20):
 * what one such cycle allocates is bounded, counted by the thread's own allocation counter (not by time, which a
 * busy machine changes). An update that carries out nothing makes no lists and no iterators: 648 bytes a cycle
 * before, 280 after.
 */
class UpstreamLimiterAllocationTest {
    private final ManualTicker ticker = new ManualTicker();
    private final FakeScheduler scheduler = new FakeScheduler(ticker);

    @Test
    void aStartAndItsReleaseOnAnUnlimitedUpstreamStayWithinTheirAllocationBudget() {
        UpstreamLimiter limiter = limiter(RateLimits.unlimited(), ticker, scheduler);
        TokenCount none = TokenCount.ZERO;
        for (int i = 0; i < 20_000; i++) granted(limiter.submit(none, UpstreamLimiter.NO_DEADLINE)).release(); // past the JIT
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long tid = Thread.currentThread().getId();
        int n = 10_000;
        long before = mx.getThreadAllocatedBytes(tid);
        for (int i = 0; i < n; i++) granted(limiter.submit(none, UpstreamLimiter.NO_DEADLINE)).release();
        long perCycle = (mx.getThreadAllocatedBytes(tid) - before) / n;
        assertEquals(0, limiter.inFlight());
        assertTrue(perCycle <= 400, "a start and its release allocated " + perCycle + " bytes");
    }

    /**
     * Under a request budget every start asks the bucket how long it would wait, and the answer names the limit it
     * waits for: that name is made once with the bucket, not on every start (440 bytes a cycle with a string built per start, 300-370 without, as the JIT has it).
     */
    @Test
    void aStartAndItsReleaseUnderARequestBudgetStayWithinTheirAllocationBudget() {
        UpstreamLimiter limiter = limiter(new RateLimits(0, 600_000_000, 0, 100, java.time.Duration.ofSeconds(30)), ticker, scheduler);
        TokenCount none = TokenCount.ZERO;
        for (int i = 0; i < 20_000; i++) {
            ticker.advanceMillis(1); // 10,000 requests a millisecond: the bucket never runs dry
            granted(limiter.submit(none, UpstreamLimiter.NO_DEADLINE)).release();
        }
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long tid = Thread.currentThread().getId();
        int n = 10_000;
        long before = mx.getThreadAllocatedBytes(tid);
        for (int i = 0; i < n; i++) {
            ticker.advanceMillis(1);
            granted(limiter.submit(none, UpstreamLimiter.NO_DEADLINE)).release();
        }
        long perCycle = (mx.getThreadAllocatedBytes(tid) - before) / n;
        assertTrue(perCycle <= 400, "a start and its release under a request budget allocated " + perCycle + " bytes");
    }
}
