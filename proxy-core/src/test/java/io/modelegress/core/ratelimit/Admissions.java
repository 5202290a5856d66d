package io.modelegress.core.ratelimit;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.modelegress.core.time.ManualTicker;
import java.time.Duration;

/** Shorthands for limiter tests: unwrap an admission, asserting its kind. */
final class Admissions {
    static final TokenCount SMALL = TokenCount.of(100, 0);

    private Admissions() { }

    static RateLimits limits(int maxConcurrent, long rpm, long tpm, int maxQueue, long maxQueueWaitMillis) {
        return new RateLimits(maxConcurrent, rpm, tpm, maxQueue, Duration.ofMillis(maxQueueWaitMillis));
    }

    static UpstreamLimiter limiter(RateLimits limits, ManualTicker ticker, FakeScheduler scheduler) {
        return new UpstreamLimiter("openai", limits, ticker, scheduler);
    }

    static Permit granted(Admission admission) {
        return assertInstanceOf(Admission.Granted.class, admission).permit();
    }

    static Ticket queued(Admission admission) {
        return assertInstanceOf(Admission.Queued.class, admission).ticket();
    }

    static Rejection rejected(Admission admission) {
        return assertInstanceOf(Admission.Rejected.class, admission).rejection();
    }

    static Permit grantedLater(Ticket ticket) {
        return granted(ticket.poll());
    }

    static Rejection rejectedLater(Ticket ticket) {
        return rejected(ticket.poll());
    }

    static void stillWaiting(Ticket ticket) {
        assertNull(ticket.poll(), "ticket should still be waiting");
    }
}
