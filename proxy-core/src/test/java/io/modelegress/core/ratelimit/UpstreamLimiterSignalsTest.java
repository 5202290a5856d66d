package io.modelegress.core.ratelimit;

import static io.modelegress.core.ratelimit.Admissions.SMALL;
import static io.modelegress.core.ratelimit.Admissions.granted;
import static io.modelegress.core.ratelimit.Admissions.grantedLater;
import static io.modelegress.core.ratelimit.Admissions.limiter;
import static io.modelegress.core.ratelimit.Admissions.limits;
import static io.modelegress.core.ratelimit.Admissions.queued;
import static io.modelegress.core.ratelimit.Admissions.rejected;
import static io.modelegress.core.ratelimit.Admissions.stillWaiting;
import static io.modelegress.core.ratelimit.UpstreamLimiter.NO_DEADLINE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.modelegress.core.time.ManualTicker;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class UpstreamLimiterSignalsTest {
    private final ManualTicker ticker = new ManualTicker();
    private final FakeScheduler scheduler = new FakeScheduler(ticker);
    private final UpstreamLimiter limiter = limiter(limits(0, 0, 0, 100, 30_000), ticker, scheduler);

    private long in(long millis) {
        return ticker.nanos() + Duration.ofMillis(millis).toNanos();
    }

    private RateLimitSnapshot reading(QuotaKind kind, long limit, long remaining, long resetInMillis) {
        return new RateLimitSnapshot(Map.of(kind, new QuotaReading(limit, remaining, ticker.nanos(), in(resetInMillis))),
                RateLimitSnapshot.NO_RETRY_AFTER);
    }

    /** Asserts that a request submitted now starts after exactly {@code millis}. */
    private void startsAfter(TokenCount estimate, long millis) {
        Admission admission = limiter.submit(estimate, NO_DEADLINE);
        if (millis == 0) {
            granted(admission);
            return;
        }
        Ticket ticket = queued(admission);
        scheduler.advanceMillis(millis - 1);
        stillWaiting(ticket);
        scheduler.advanceMillis(1);
        grantedLater(ticket);
    }

    @Test
    void a429WithRetryAfterPausesTheWholeQueueUntilThen() {
        limiter.onRateLimited(new RateLimitSnapshot(Map.of(), in(5000)));
        Ticket first = queued(limiter.submit(SMALL, NO_DEADLINE));
        Ticket second = queued(limiter.submit(SMALL, NO_DEADLINE));

        scheduler.advanceMillis(4999);
        stillWaiting(first);
        stillWaiting(second);
        scheduler.advanceMillis(1);
        grantedLater(first);
        grantedLater(second);
    }

    @Test
    void aPauseLongerThanMaxQueueWaitRejectsAtOnceWithTheCooldownAsRetryAfter() {
        UpstreamLimiter impatient = limiter(limits(0, 0, 0, 100, 2_000), ticker, scheduler);
        impatient.onRateLimited(new RateLimitSnapshot(Map.of(), in(7250)));

        Rejection rejection = rejected(impatient.submit(SMALL, NO_DEADLINE));
        assertEquals(Duration.ofMillis(7250), rejection.retryAfter());
        assertEquals(8, rejection.retryAfterSeconds());
        assertTrue(rejection.message().contains("the upstream's 429 cooldown"), rejection.message());
    }

    @Test
    void a429WithoutAnyHintCoolsDownForTheDefault() {
        limiter.onRateLimited(RateLimitSnapshot.EMPTY);
        startsAfter(SMALL, UpstreamLimiter.DEFAULT_COOLDOWN.toMillis());
    }

    @Test
    void a429WithoutRetryAfterWaitsForTheExhaustedQuotaToReset() {
        limiter.onRateLimited(reading(QuotaKind.TOKENS, QuotaReading.UNKNOWN, 0, 12_000));
        startsAfter(SMALL, 12_000);
    }

    @Test
    void aShorterPauseNeverCutsALongerOneShort() {
        limiter.pauseFor(Duration.ofSeconds(3));
        limiter.pauseFor(Duration.ofSeconds(1));
        startsAfter(SMALL, 3000);
    }

    @ParameterizedTest(name = "{0}: limit {1}, remaining {2}, reset in {3} ms; request {4}+{5} starts after {6} ms")
    @CsvSource({
        // Without a limit we can only wait for the reset.
        "REQUESTS,      -1,    0,  2000,   100,    0,  2000",
        "TOKENS,        -1, 3000,  6000,  5000,    0,  6000",
        "TOKENS,        -1, 3000,  6000,  1000,    0,     0",
        // With a limit, the quota refills linearly to it by the reset: 60 requests/min is one a second.
        "REQUESTS,      60,    0, 60000,   100,    0,  1000",
        "TOKENS,     90000,    0, 60000,  4500,    0,  3000",
        "INPUT_TOKENS,  -1,   50,  4000,   100,    0,  4000",
        "OUTPUT_TOKENS, -1,  100,  9000,   100, 4096,  9000",
        "OUTPUT_TOKENS, -1,  100,  9000,   100,    0,     0",
        // A request larger than the whole quota starts when it is full again.
        "TOKENS,      1000,    0, 30000,  5000,    0, 30000",
    })
    void holdsStartsUntilTheUpstreamsQuotaFitsTheRequest(QuotaKind kind, long limit, long remaining, long resetMillis,
                                                          long input, long output, long startsAfterMillis) {
        limiter.observe(reading(kind, limit, remaining, resetMillis));
        startsAfter(TokenCount.of(input, output), startsAfterMillis);
    }

    @Test
    void debitsEachStartLocallySoAgentsDoNotAllStartAgainstTheSameRemaining() {
        limiter.observe(reading(QuotaKind.REQUESTS, QuotaReading.UNKNOWN, 2, 10_000));
        granted(limiter.submit(SMALL, NO_DEADLINE));
        granted(limiter.submit(SMALL, NO_DEADLINE));
        Ticket third = queued(limiter.submit(SMALL, NO_DEADLINE));
        scheduler.advanceMillis(10_000);
        grantedLater(third);
    }

    @Test
    void aNewerReadingReplacesTheOlderOne() {
        limiter.observe(reading(QuotaKind.REQUESTS, QuotaReading.UNKNOWN, 0, 10_000));
        limiter.observe(reading(QuotaKind.REQUESTS, QuotaReading.UNKNOWN, 40, 10_000));
        startsAfter(SMALL, 0);
    }

    @Test
    void anOpenAi429ReadThroughItsHeadersHoldsTheQueueForItsRetryAfter() {
        Map<String, String> headers = Map.of("retry-after-ms", "2500", "x-ratelimit-remaining-requests", "0",
                "x-ratelimit-reset-requests", "20s", "x-ratelimit-limit-requests", "500");
        limiter.onRateLimited(RateLimitHeaders.parse(headers::get, ticker));
        // retry-after-ms says 2.5 s; by then the request quota (500/min, empty for 20 s) has refilled 20 requests.
        startsAfter(SMALL, 2500);
    }

    @Test
    void anAnthropicResponseWithNoOutputTokensLeftHoldsTheNextStartUntilItsReset() {
        String reset = java.time.Instant.ofEpochMilli(ticker.wallMillis()).plusSeconds(8).toString();
        Map<String, String> headers = Map.of("anthropic-ratelimit-output-tokens-remaining", "0",
                "anthropic-ratelimit-output-tokens-reset", reset);
        limiter.observe(RateLimitHeaders.parse(headers::get, ticker));
        startsAfter(TokenCount.of(1000, 1024), 8000);
    }
}
