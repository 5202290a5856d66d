package io.modelegress.core.retry;

import io.modelegress.core.config.RetrySettings;
import io.modelegress.core.time.ManualTicker;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RetryBudgetTest {
    private final ManualTicker ticker = new ManualTicker();

    private static void start(RetryBudget budget, int attempts) {
        for (int i = 0; i < attempts; i++) budget.onRequestStart();
    }

    private static int acquireAll(RetryBudget budget) {
        int granted = 0;
        while (budget.tryAcquireRetry()) {
            granted++;
            if (granted > 10_000) throw new AssertionError("budget never refused");
        }
        return granted;
    }

    @ParameterizedTest(name = "{0} attempts in flight, ratio {1}: {2} concurrent retries")
    @CsvSource({
            "100, 0.2, 20",
            "99,  0.2, 19",
            "10,  0.2, 2",
            "4,   0.2, 0",     // ratio rounds down; the reserve is what lets a quiet sidecar retry
            "0,   0.2, 0",
            "50,  1.0, 50",
            "100, 0.0, 0",
            "100, 0.29, 29",  // 0.29 x 100 is 28.999999999999996 in binary
    })
    void ratioLimitsRetriesInFlightUnderLoad(int inFlight, double ratio, int expectedRetries) {
        RetryBudget budget = RetryBudget.of(ratio, 0, ticker);
        start(budget, inFlight);
        assertEquals(expectedRetries, acquireAll(budget));
        assertEquals(expectedRetries, budget.activeRetries());
    }

    @Test
    void returningARetryFreesItsSlot() {
        RetryBudget budget = RetryBudget.of(0.2, 0, ticker);
        start(budget, 10);
        assertEquals(2, acquireAll(budget));
        budget.onRetryEnd();
        assertTrue(budget.tryAcquireRetry());
        assertFalse(budget.tryAcquireRetry());
    }

    @Test
    void fewerAttemptsInFlightShrinkTheRoomForRetries() {
        RetryBudget budget = RetryBudget.of(0.2, 0, ticker);
        start(budget, 10);
        assertEquals(2, acquireAll(budget));
        for (int i = 0; i < 5; i++) budget.onRequestEnd();
        budget.onRetryEnd();
        // 1 retry still in flight against 5 attempts: exactly at the ratio, no room
        assertFalse(budget.tryAcquireRetry());
    }

    @Test
    void reserveAllowsMinPerSecondEvenWithNothingInFlight() {
        RetryBudget budget = RetryBudget.of(0.2, 5, ticker);
        assertEquals(5, acquireAll(budget));
        ticker.advance(Duration.ofMillis(199));
        assertFalse(budget.tryAcquireRetry());
        ticker.advance(Duration.ofMillis(1));
        assertTrue(budget.tryAcquireRetry());
        assertFalse(budget.tryAcquireRetry());
    }

    @Test
    void reserveHoldsAtMostOneSecondOfRetries() {
        RetryBudget budget = RetryBudget.of(0.0, 5, ticker);
        ticker.advance(Duration.ofMinutes(10));
        assertEquals(5, acquireAll(budget));
    }

    @Test
    void ratioIsUsedBeforeTheReserve() {
        RetryBudget budget = RetryBudget.of(0.2, 5, ticker);
        start(budget, 100);
        // 20 from the ratio, then the 5 reserve tokens
        assertEquals(25, acquireAll(budget));
        for (int i = 0; i < 25; i++) budget.onRetryEnd();
        // the ratio refills as retries end; the reserve only with time
        assertEquals(20, acquireAll(budget));
    }

    @Test
    void reserveRetriesCountAsInFlightToo() {
        RetryBudget budget = RetryBudget.of(0.2, 5, ticker);
        assertEquals(5, acquireAll(budget));
        start(budget, 25);
        // 5 reserve retries in flight already fill a ratio of 0.2 x 25
        ticker.advance(Duration.ofMillis(200));
        assertTrue(budget.tryAcquireRetry());   // one reserve token has come back
        assertFalse(budget.tryAcquireRetry());
        assertEquals(6, budget.activeRetries());
    }

    @Test
    void mismatchedEndsCannotDriveCountsNegative() {
        RetryBudget budget = RetryBudget.of(0.5, 0, ticker);
        budget.onRetryEnd();
        budget.onRequestEnd();
        assertEquals(0, budget.activeRetries());
        assertEquals(0, budget.activeRequests());
        start(budget, 2);
        assertEquals(1, acquireAll(budget));
    }

    @ParameterizedTest(name = "ratio {0}, min_per_second {1}: {2}")
    @CsvSource(delimiter = '|', value = {
            "-0.1     | 5  | retry.budget.ratio: -0.1 (expected: >= 0)",
            "NaN      | 5  | retry.budget.ratio: NaN (expected: >= 0)",
            "Infinity | 5  | retry.budget.ratio: Infinity (expected: >= 0)",
            "0.2      | -1 | retry.budget.min_per_second: -1 (expected: 0..1000000000)",
    })
    void validationNamesTheKey(double ratio, int minPerSecond, String message) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> RetryBudget.of(ratio, minPerSecond, ticker));
        assertEquals(message, e.getMessage());
    }

    @Test
    void buildsFromTheRetrySettings() {
        RetryBudget budget = RetryBudget.from(new RetrySettings(3, List.of(), false, Duration.ofMillis(250),
                Duration.ofSeconds(8), Duration.ofSeconds(30), 0.5, 2), ticker);
        start(budget, 4);
        assertEquals(4, acquireAll(budget));   // 2 from the ratio, 2 from the reserve
    }

    @Test
    void policyTakesAPermitOnlyForSameUpstreamRetries() {
        RetryBudget budget = RetryBudget.of(0.0, 1, ticker);
        RetryPolicy policy = RetryPolicy.ofDefaults();
        long minute = Duration.ofMinutes(1).toNanos();
        AttemptOutcome unavailable = AttemptOutcome.status(503);
        assertTrue(policy.decide(unavailable, 1, false, minute, budget::tryAcquireRetry, () -> 0.5).isRetry());
        assertEquals(RetryDecision.stop(RetryDecision.StopReason.BUDGET_EXHAUSTED),
                policy.decide(unavailable, 1, false, minute, budget::tryAcquireRetry, () -> 0.5));
        assertEquals(1, budget.activeRetries());
    }
}
