package io.modelegress.core.ratelimit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.modelegress.core.time.ManualTicker;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class TokenBucketTest {
    private final ManualTicker ticker = new ManualTicker();

    @ParameterizedTest(name = "{0}/min -> burst {1}")
    @CsvSource({
        "1,         1",
        "600,       1",   // 10 req/s: one request at a time, every 100 ms
        "1200,      1",
        "24000,    20",
        "60000,    50",
        "90000,    75",   // a 90k tpm bucket holds 75 tokens
        "2000000, 1666",
    })
    void pacedBucketHoldsFiftyMillisecondsOfRate(long perMinute, long expectedBurst) {
        assertEquals(expectedBurst, TokenBucket.paced(perMinute, ticker).capacity());
    }

    @ParameterizedTest(name = "{0}/min, burst {1}: after taking {2}, {3} more wait {4} ms")
    @CsvSource({
        "600,    1,   1,    1,   100",
        "600,    1,   1,    0,     0",
        "60,    10,  10,    1,  1000",
        "60,    10,   5,    5,     0",
        "60,    10,  10,   10, 10000",
        "60000, 50,  50,   50,    50",
    })
    void waitIsTheTimeToRefillTheMissingPermits(long perMinute, long burst, long taken, long wanted, long expectedMillis) {
        TokenBucket bucket = new TokenBucket(burst, perMinute, ticker);
        assertTrue(bucket.tryTake(taken));
        assertEquals(Duration.ofMillis(expectedMillis).toNanos(), bucket.nanosUntilAvailable(wanted));
    }

    @Test
    void refillsWithTimeButNeverAboveCapacity() {
        TokenBucket bucket = new TokenBucket(10, 60, ticker);
        assertTrue(bucket.tryTake(10));
        assertFalse(bucket.tryTake(1));
        ticker.advance(Duration.ofSeconds(3));
        assertEquals(3.0, bucket.available(), 1e-9);
        ticker.advance(Duration.ofHours(1));
        assertEquals(10.0, bucket.available(), 1e-9);
    }

    @Test
    void requestLargerThanCapacityStartsOnAFullBucketAndLeavesADebt() {
        TokenBucket bucket = new TokenBucket(75, 90_000, ticker);
        assertEquals(0, bucket.nanosUntilAvailable(30_000));
        assertTrue(bucket.tryTake(30_000));
        assertEquals(-29_925.0, bucket.available(), 1e-9);
        // The debt plus the next request's threshold refill at 1500 tokens/s.
        assertEquals(Duration.ofMillis(20_000).toNanos(), bucket.nanosUntilAvailable(75));
    }

    @Test
    void waitAccountsForPermitsReservedByTheRequestsAhead() {
        TokenBucket bucket = new TokenBucket(1, 600, ticker);
        assertEquals(0, bucket.nanosUntilAvailable(1, 0));
        assertEquals(Duration.ofMillis(100).toNanos(), bucket.nanosUntilAvailable(1, 1));
        assertEquals(Duration.ofMillis(500).toNanos(), bucket.nanosUntilAvailable(1, 5));
    }

    @ParameterizedTest(name = "capacity {0}, took {1}, adjust {2} -> {3}")
    @CsvSource({
        "1000, 800,  500,  700",   // over-estimate given back
        "1000, 800, 5000, 1000",   // never above capacity
        "1000, 800, -700, -500",   // under-estimate charged as a debt
    })
    void adjustCorrectsTheLevelWithTheRealCost(long capacity, long took, long delta, double expectedLevel) {
        TokenBucket bucket = new TokenBucket(capacity, 60, ticker);
        assertTrue(bucket.tryTake(took));
        bucket.adjust(delta);
        assertEquals(expectedLevel, bucket.available(), 1e-9);
    }

    @Test
    void rejectsNonsenseWithTheExpectedRange() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new TokenBucket(0, 60, ticker));
        assertEquals("capacity: 0 (expected: >= 1)", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new TokenBucket(1, 0, ticker));
        assertEquals("permitsPerMinute: 0 (expected: >= 1)", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new TokenBucket(1, 1, ticker).tryTake(-1));
        assertEquals("permits: -1 (expected: >= 0)", e.getMessage());
    }
}
