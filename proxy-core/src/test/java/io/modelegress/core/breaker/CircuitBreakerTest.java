package io.modelegress.core.breaker;

import io.modelegress.core.breaker.CircuitBreaker.State;
import io.modelegress.core.config.BreakerSettings;
import io.modelegress.core.error.ErrorCode;
import io.modelegress.core.retry.AttemptOutcome;
import io.modelegress.core.time.ManualTicker;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static io.modelegress.core.retry.AttemptOutcome.failure;
import static io.modelegress.core.retry.AttemptOutcome.status;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.params.provider.Arguments.arguments;

class CircuitBreakerTest {
    private static final Duration COOLDOWN = Duration.ofSeconds(10);

    private final ManualTicker ticker = new ManualTicker();
    private final List<String> transitions = new ArrayList<>();
    private final CircuitBreaker breaker = CircuitBreaker.of(3, COOLDOWN, ticker,
            (from, to) -> transitions.add(from + "->" + to));

    private void fail(int times) {
        for (int i = 0; i < times; i++) {
            assertTrue(breaker.tryAcquire());
            breaker.onFailure();
        }
    }

    /** Waits out the current cooldown and fails the probe. */
    private void failProbeAfter(Duration cooldown) {
        ticker.advance(cooldown);
        assertTrue(breaker.tryAcquire());
        breaker.onFailure();
    }

    @Test
    void opensAfterConsecutiveFailures() {
        fail(2);
        assertEquals(State.CLOSED, breaker.state());
        fail(1);
        assertEquals(State.OPEN, breaker.state());
        assertFalse(breaker.tryAcquire());
        assertEquals(COOLDOWN, breaker.remainingOpen());
        assertEquals(List.of("CLOSED->OPEN"), transitions);
    }

    @Test
    void anAnswerBetweenFailuresResetsTheRun() {
        fail(2);
        breaker.onSuccess();
        fail(2);
        assertEquals(State.CLOSED, breaker.state());
    }

    @Test
    void staysOpenForTheCooldownThenLetsOneProbeThrough() {
        fail(3);
        ticker.advance(COOLDOWN.minusMillis(1));
        assertFalse(breaker.tryAcquire());
        assertEquals(Duration.ofMillis(1), breaker.remainingOpen());
        ticker.advance(Duration.ofMillis(1));
        assertEquals(State.HALF_OPEN, breaker.state());   // the gauge stops saying "open" when probing may start
        assertTrue(breaker.tryAcquire());
        assertFalse(breaker.tryAcquire());
        assertFalse(breaker.tryAcquire());
        assertEquals(Duration.ZERO, breaker.remainingOpen());
        assertEquals(List.of("CLOSED->OPEN", "OPEN->HALF_OPEN"), transitions);
    }

    @Test
    void successfulProbeClosesAndForgetsEjections() {
        fail(3);
        failProbeAfter(COOLDOWN);
        assertEquals(2, breaker.consecutiveEjections());
        ticker.advance(COOLDOWN.multipliedBy(2));
        assertTrue(breaker.tryAcquire());
        breaker.onSuccess();
        assertEquals(State.CLOSED, breaker.state());
        assertEquals(0, breaker.consecutiveEjections());
        assertTrue(breaker.tryAcquire());
        fail(3);
        assertEquals(COOLDOWN, breaker.remainingOpen());   // back to the base cooldown
        assertEquals(List.of("CLOSED->OPEN", "OPEN->HALF_OPEN", "HALF_OPEN->OPEN", "OPEN->HALF_OPEN",
                "HALF_OPEN->CLOSED", "CLOSED->OPEN"), transitions);
    }

    @ParameterizedTest(name = "ejection {0} in a row opens for {1}s")
    @CsvSource({"1, 10", "2, 20", "3, 30", "9, 90", "10, 100", "11, 100", "25, 100"})
    void cooldownGrowsWithEachEjectionInARowUpToTenfold(int ejections, long seconds) {
        fail(3);
        Duration cooldown = COOLDOWN;
        for (int n = 2; n <= ejections; n++) {
            failProbeAfter(cooldown);
            cooldown = breaker.remainingOpen();
        }
        assertEquals(ejections, breaker.consecutiveEjections());
        assertEquals(Duration.ofSeconds(seconds), breaker.remainingOpen());
    }

    @Test
    void failedProbeReopensOnItsOwnWithoutWaitingForTheThreshold() {
        fail(3);
        failProbeAfter(COOLDOWN);
        assertEquals(State.OPEN, breaker.state());
        assertEquals(COOLDOWN.multipliedBy(2), breaker.remainingOpen());
    }

    @Test
    void ignoredProbeFreesTheSlotForAnotherProbe() {
        fail(3);
        ticker.advance(COOLDOWN);
        assertTrue(breaker.tryAcquire());
        breaker.onIgnored();
        assertEquals(State.HALF_OPEN, breaker.state());
        assertTrue(breaker.tryAcquire());
        assertFalse(breaker.tryAcquire());
    }

    @Test
    void probeThatNeverReportsIsPresumedLostAfterTheCooldown() {
        fail(3);
        ticker.advance(COOLDOWN);
        assertTrue(breaker.tryAcquire());
        ticker.advance(COOLDOWN.minusMillis(1));
        assertFalse(breaker.tryAcquire());
        ticker.advance(Duration.ofMillis(1));
        assertTrue(breaker.tryAcquire());
        assertFalse(breaker.tryAcquire());
    }

    @Test
    void lateResultsWhileOpenAreIgnored() {
        fail(3);
        breaker.onFailure();
        breaker.onSuccess();
        breaker.onIgnored();
        assertEquals(State.OPEN, breaker.state());
        assertEquals(COOLDOWN, breaker.remainingOpen());
        assertEquals(1, breaker.consecutiveEjections());
    }

    static Stream<Arguments> outcomes() {
        return Stream.of(
                arguments(failure(ErrorCode.UPSTREAM_CONNECT_REFUSED), State.OPEN),
                arguments(failure(ErrorCode.UPSTREAM_CONNECT_TIMEOUT), State.OPEN),
                arguments(failure(ErrorCode.DNS_RESOLUTION_FAILED), State.OPEN),
                arguments(failure(ErrorCode.TLS_HANDSHAKE_FAILED), State.OPEN),
                arguments(status(500), State.OPEN),
                arguments(status(503), State.OPEN),
                arguments(status(529), State.OPEN),
                arguments(failure(ErrorCode.UPSTREAM_RESET), State.OPEN),
                arguments(failure(ErrorCode.UPSTREAM_RESPONSE_TIMEOUT), State.CLOSED),
                arguments(failure(ErrorCode.FIRST_TOKEN_TIMEOUT), State.CLOSED),
                arguments(status(429), State.CLOSED),
                arguments(status(400), State.CLOSED),
                arguments(status(200), State.CLOSED));
    }

    @ParameterizedTest(name = "three times {0} -> {1}")
    @MethodSource("outcomes")
    void onlyConnectFailuresResetsAnd5xxCountAgainstTheUpstream(AttemptOutcome outcome, State expected) {
        for (int i = 0; i < 3; i++) {
            assertTrue(breaker.tryAcquire());
            breaker.onOutcome(outcome);
        }
        assertEquals(expected, breaker.state());
    }

    @Test
    void ignoredOutcomesDoNotBreakARunOfFailures() {
        fail(2);
        breaker.onOutcome(failure(ErrorCode.UPSTREAM_RESPONSE_TIMEOUT));
        fail(1);
        assertEquals(State.OPEN, breaker.state());
    }

    @Test
    void aProbeAnsweredWithA4xxClosesTheBreaker() {
        fail(3);
        ticker.advance(COOLDOWN);
        assertTrue(breaker.tryAcquire());
        breaker.onOutcome(status(429));
        assertEquals(State.CLOSED, breaker.state());
    }

    @Test
    void zeroConsecutiveFailuresTurnsTheBreakerOff() {
        CircuitBreaker off = CircuitBreaker.from(new BreakerSettings(0, Duration.ZERO), ticker, CircuitBreaker.Listener.NONE);
        assertTrue(off.isDisabled());
        for (int i = 0; i < 100; i++) {
            assertTrue(off.tryAcquire());
            off.onOutcome(status(503));
        }
        assertEquals(State.CLOSED, off.state());
        assertEquals(Duration.ZERO, off.remainingOpen());
    }

    @Test
    void buildsFromTheBreakerSettings() {
        CircuitBreaker fromConfig = CircuitBreaker.from(new BreakerSettings(1, COOLDOWN), ticker, CircuitBreaker.Listener.NONE);
        assertFalse(fromConfig.isDisabled());
        fromConfig.onFailure();
        assertEquals(State.OPEN, fromConfig.state());
    }

    @ParameterizedTest(name = "consecutive_failures {0}, cooldown {1}: {2}")
    @CsvSource(delimiter = '|', value = {
            "-1 | PT10S   | breaker.consecutive_failures: -1 (expected: >= 0, 0 = off)",
            "5 | PT0S     | breaker.cooldown: PT0S (expected: > 0)",
            "5 | PT-1S    | breaker.cooldown: PT-1S (expected: > 0)",
            "5 | PT9000H  | breaker.cooldown: PT9000H (expected: <= 365d)",
    })
    void validationNamesTheKey(int failures, Duration cooldown, String message) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> CircuitBreaker.of(failures, cooldown, ticker));
        assertEquals(message, e.getMessage());
    }

    @Test
    void anEjectionByAnotherReplicaHoldsForItsLengthWithoutGrowingOurCooldownOrEchoing() {
        assertTrue(breaker.ejectFor(Duration.ofSeconds(4)));
        assertEquals(State.OPEN, breaker.state());
        assertFalse(breaker.tryAcquire());
        assertTrue(transitions.isEmpty(), "not told to the listener, which would publish it back: " + transitions);
        assertFalse(breaker.ejectFor(Duration.ofSeconds(2)), "a shorter ejection never shortens a longer one");
        ticker.advance(Duration.ofSeconds(4));
        assertTrue(breaker.tryAcquire(), "the probe goes out when the shared ejection ends");
        breaker.onSuccess();
        assertEquals(State.CLOSED, breaker.state());
        assertEquals(0, breaker.consecutiveEjections());
    }

    @Test
    void aDisabledBreakerIgnoresSharedEjections() {
        CircuitBreaker off = CircuitBreaker.of(0, COOLDOWN, ticker);
        assertFalse(off.ejectFor(Duration.ofSeconds(4)));
        assertTrue(off.tryAcquire());
    }

    @ParameterizedTest(name = "cooldown 10s, max_cooldown {0}s: ejection {1} in a row opens for {2}s")
    @CsvSource({"30, 1, 10", "30, 2, 20", "30, 3, 30", "30, 4, 30", "30, 25, 30", "10, 1, 10", "10, 5, 10",
            "15, 2, 15", "500, 11, 100"})
    void maxCooldownCapsTheGrowthOfEjectionsInARow(long maxSeconds, int ejections, long seconds) {
        CircuitBreaker capped = CircuitBreaker.from(new BreakerSettings(3, COOLDOWN, Duration.ofSeconds(maxSeconds)), ticker,
                CircuitBreaker.Listener.NONE);
        for (int i = 0; i < 3; i++) {
            assertTrue(capped.tryAcquire());
            capped.onFailure();
        }
        for (int n = 2; n <= ejections; n++) {
            ticker.advance(capped.remainingOpen());
            assertTrue(capped.tryAcquire());
            capped.onFailure();
        }
        assertEquals(Duration.ofSeconds(seconds), capped.remainingOpen());
    }

    @Test
    void maxCooldownBelowTheCooldownIsRefusedNamingTheKey() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> CircuitBreaker.of(3, COOLDOWN, Duration.ofSeconds(5), ticker, CircuitBreaker.Listener.NONE));
        assertEquals("breaker.max_cooldown: PT5S (expected: >= breaker.cooldown PT10S)", e.getMessage());
    }

    @Test
    void aPassingHealthCheckClosesAtOnceWithoutWaitingForTheCooldown() {
        fail(3);
        failProbeAfter(COOLDOWN);
        ticker.advance(Duration.ofSeconds(1));
        assertTrue(breaker.onHealthy());
        assertEquals(State.CLOSED, breaker.state());
        assertEquals(0, breaker.consecutiveEjections());
        assertTrue(breaker.tryAcquire());
        assertFalse(breaker.onHealthy());   // nothing to close
        assertEquals(List.of("CLOSED->OPEN", "OPEN->HALF_OPEN", "HALF_OPEN->OPEN", "OPEN->CLOSED"), transitions);
    }

    @Test
    void anEjectionRemembersItsReasonAndSince() {
        fail(2);
        ticker.advance(Duration.ofSeconds(3));
        assertTrue(breaker.tryAcquire());
        breaker.onOutcome(failure(ErrorCode.UPSTREAM_CONNECT_REFUSED));
        assertTrue(breaker.isEjected());
        assertEquals("upstream_connect_refused", breaker.reason());
        assertEquals(ticker.nanos(), breaker.openedNanos());
        assertEquals(ticker.nanos() + COOLDOWN.toNanos(), breaker.openUntilNanos());
    }
}
