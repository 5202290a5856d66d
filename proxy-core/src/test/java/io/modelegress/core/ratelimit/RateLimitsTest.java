package io.modelegress.core.ratelimit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class RateLimitsTest {
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "max_concurrent: -1 (expected: >= 0)      | -1,  0,  0,  0,  0",
        "requests_per_minute: -5 (expected: >= 0) |  0, -5,  0,  0,  0",
        "tokens_per_minute: -1 (expected: >= 0)   |  0,  0, -1,  0,  0",
        "max_queue: -2 (expected: >= 0)           |  0,  0,  0, -2,  0",
        "max_queue_wait: PT-0.001S (expected: >= 0) | 0, 0,  0,  0, -1",
    })
    void rejectsANegativeLimitNamingItsKey(String message, String values) {
        String[] v = values.split(",");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new RateLimits(
                Integer.parseInt(v[0].trim()), Long.parseLong(v[1].trim()), Long.parseLong(v[2].trim()),
                Integer.parseInt(v[3].trim()), Duration.ofMillis(Long.parseLong(v[4].trim()))));
        assertEquals(message, e.getMessage());
    }

    @Test
    void defaultsMatchTheDocumentedConfig() {
        assertEquals(new RateLimits(64, 0, 0, 1000, Duration.ofSeconds(30)), RateLimits.ofDefaults());
        assertTrue(RateLimits.ofDefaults().queueing());
        assertFalse(RateLimits.unlimited().queueing());
    }

    @ParameterizedTest(name = "retry after {0} ms -> retry-after: {1}, retry-after-ms: {2}")
    @CsvSource({
        "0,       1,  1000",   // never below the floor
        "1000,    1,  1000",
        "1001,    2,  1001",
        "6000,    6,  6000",
        "7250,    8,  7250",
    })
    void rendersRetryAfterInWholeSecondsRoundedUpAndInMilliseconds(long millis, long seconds, long headerMillis) {
        Rejection rejection = new Rejection(Rejection.Reason.QUEUE_FULL, Duration.ofMillis(millis), Duration.ZERO, "m");
        assertEquals(seconds, rejection.retryAfterSeconds());
        assertEquals(headerMillis, rejection.retryAfterMillis());
    }

    @Test
    void roundsSubMillisecondRetryAfterUp() {
        Rejection rejection = new Rejection(
                Rejection.Reason.QUEUE_FULL, Duration.ofNanos(1_500_000_001L), Duration.ZERO, "m");
        assertEquals(2, rejection.retryAfterSeconds());
        assertEquals(1501, rejection.retryAfterMillis());
    }

    @Test
    void becomesTheRateLimitedCatalogueError() {
        Rejection rejection = new Rejection(Rejection.Reason.QUEUE_FULL, Duration.ofSeconds(3), Duration.ZERO,
                "upstream openai: 1000 requests already waiting (max_queue: 1000)");
        var e = rejection.toException();
        assertEquals("rate_limited", e.code().code());
        assertEquals(429, e.code().status());
        assertEquals(Duration.ofSeconds(3), e.retryAfter());
        assertEquals("upstream openai: 1000 requests already waiting (max_queue: 1000)", e.getMessage());
    }
}
