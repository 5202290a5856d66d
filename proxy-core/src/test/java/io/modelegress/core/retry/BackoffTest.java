package io.modelegress.core.retry;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BackoffTest {
    private static final double ALMOST_ONE = Math.nextDown(1.0);
    private final Backoff backoff = Backoff.of(Duration.ofMillis(250), Duration.ofSeconds(8));

    @ParameterizedTest(name = "retry {0} has ceiling {1} ms")
    @CsvSource({
            "1, 250",
            "2, 500",
            "3, 1000",
            "5, 4000",
            "6, 8000",   // reaches max
            "7, 8000",   // stays at max
            "64, 8000",  // would overflow a shift
            "2147483647, 8000",
    })
    void ceilingDoublesUpToMax(int retryNumber, long ceilingMillis) {
        assertEquals(Duration.ofMillis(ceilingMillis).toNanos(), backoff.ceilingNanos(retryNumber));
    }

    @ParameterizedTest(name = "retry {0}: random 0 waits nothing, random ~1 waits just under the ceiling")
    @CsvSource({"1", "2", "4", "6", "30"})
    void fullJitterSpansZeroToCeiling(int retryNumber) {
        long ceiling = backoff.ceilingNanos(retryNumber);
        assertEquals(0, backoff.delayNanos(retryNumber, () -> 0.0));
        long nearTop = backoff.delayNanos(retryNumber, () -> ALMOST_ONE);
        assertTrue(nearTop < ceiling && nearTop > ceiling - 1_000, "near-top wait " + nearTop + " of " + ceiling);
        assertEquals(ceiling / 2, backoff.delayNanos(retryNumber, () -> 0.5));
    }

    @ParameterizedTest(name = "random {0} is clamped into [0, 1]")
    @CsvSource({"-3.0, 0", "7.5, 250", "NaN, 0"})
    void outOfRangeRandomCannotEscapeTheBounds(double random, long expectedMillis) {
        assertEquals(Duration.ofMillis(expectedMillis), backoff.delay(1, () -> random));
    }

    @Test
    void rejectsRetryNumberBelowOne() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> backoff.ceilingNanos(0));
        assertEquals("retryNumber: 0 (expected: >= 1)", e.getMessage());
    }

    @ParameterizedTest(name = "base {0}, max {1}: {2}")
    @CsvSource(delimiter = '|', value = {
            "PT0S    | PT8S   | retry.backoff.base: PT0S (expected: > 0)",
            "PT-1S   | PT8S   | retry.backoff.base: PT-1S (expected: > 0)",
            "PT1S    | PT0.5S | retry.backoff.max: PT0.5S (expected: >= retry.backoff.base PT1S)",
    })
    void validationNamesTheKey(Duration base, Duration max, String message) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Backoff.of(base, max));
        assertEquals(message, e.getMessage());
    }

    @Test
    void hugeMaxDoesNotOverflow() {
        Backoff wide = Backoff.of(Duration.ofMillis(1), Duration.ofSeconds(Long.MAX_VALUE));
        assertEquals(Long.MAX_VALUE, wide.ceilingNanos(200));
        assertTrue(wide.delayNanos(200, () -> ALMOST_ONE) > 0);
    }
}
