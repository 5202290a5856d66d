package io.modelegress.core.breaker;

import static io.modelegress.core.retry.AttemptOutcome.failure;
import static io.modelegress.core.retry.AttemptOutcome.status;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import io.modelegress.core.breaker.CircuitBreaker.State;
import io.modelegress.core.error.ErrorCode;
import io.modelegress.core.retry.AttemptOutcome;
import io.modelegress.core.time.ManualTicker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class BreakersTest {
    private static final Duration COOLDOWN = Duration.ofSeconds(10);
    private final ManualTicker ticker = new ManualTicker();
    private final List<String> made = new ArrayList<>();
    private final Breakers breakers = new Breakers(CircuitBreaker.of(3, COOLDOWN, ticker), m -> {
        made.add(m);
        return CircuitBreaker.of(3, COOLDOWN, ticker);
    });

    private static Supplier<String> model(String m) { return () -> m; }

    private void three(AttemptOutcome o, String model) {
        for (int i = 0; i < 3; i++) {
            assertTrue(breakers.tryAcquire(model(model)));
            breakers.record(o, model(model));
        }
    }

    /** Three times the outcome for model "a": which of (upstream, pair a) is ejected, and does model "b" still pass. */
    static Stream<Arguments> whatIsEjected() {
        return Stream.of(
                arguments(status(503), "a", State.CLOSED, State.OPEN, true),
                arguments(status(500), "a", State.CLOSED, State.OPEN, true),
                arguments(status(429), "a", State.CLOSED, State.OPEN, true),
                arguments(status(503), null, State.OPEN, null, false),
                arguments(status(429), null, State.CLOSED, null, true),
                arguments(status(400), "a", State.CLOSED, null, true),
                arguments(status(200), "a", State.CLOSED, null, true),
                arguments(failure(ErrorCode.UPSTREAM_CONNECT_REFUSED), "a", State.OPEN, null, false),
                arguments(failure(ErrorCode.TLS_HANDSHAKE_FAILED), "a", State.OPEN, null, false),
                arguments(failure(ErrorCode.UPSTREAM_RESET), "a", State.OPEN, null, false),
                arguments(failure(ErrorCode.UPSTREAM_RESPONSE_TIMEOUT), "a", State.CLOSED, null, true),
                arguments(status(503), "x".repeat(Breakers.MAX_MODEL_LENGTH + 1), State.OPEN, null, false));
    }

    @ParameterizedTest(name = "3 × {0} for model {1}: upstream {2}, pair {3}, model b admitted {4}")
    @MethodSource("whatIsEjected")
    void ejectsWhatFailedNotMore(AttemptOutcome o, String model, State upstream, State pair, boolean otherModelAdmitted) {
        three(o, model);
        assertEquals(upstream, breakers.upstream().state());
        CircuitBreaker p = model == null ? null : breakers.models().get(model);
        assertEquals(pair, p == null ? null : p.state());
        assertEquals(otherModelAdmitted, breakers.tryAcquire(model("b")));
        if (pair == State.OPEN) assertFalse(breakers.tryAcquire(model(model)));
    }

    @Test
    void theModelIsReadOnlyWhenAPairExistsOrTheOutcomeIsAboutAModel() {
        AtomicInteger reads = new AtomicInteger();
        Supplier<String> counted = () -> {
            reads.incrementAndGet();
            return "a";
        };
        for (int i = 0; i < 10; i++) {
            assertTrue(breakers.tryAcquire(counted));
            breakers.record(status(200), counted);
        }
        assertEquals(0, reads.get());
        assertTrue(breakers.tryAcquire(counted));
        breakers.record(status(503), counted);
        assertEquals(1, reads.get());
        assertTrue(breakers.tryAcquire(counted));   // a pair exists now: admission reads it
        assertEquals(2, reads.get());
    }

    @Test
    void aPairForgottenOnceItAnswersAgain() {
        assertTrue(breakers.tryAcquire(model("a")));
        breakers.record(status(503), model("a"));
        assertEquals(List.of("a"), new ArrayList<>(breakers.models().keySet()));
        assertTrue(breakers.tryAcquire(model("a")));
        breakers.record(status(200), model("a"));
        assertTrue(breakers.models().isEmpty());
    }

    @Test
    void anEjectedPairComesBackByAProbeAfterItsCooldown() {
        three(status(503), "a");
        ticker.advance(COOLDOWN);
        assertTrue(breakers.tryAcquire(model("a")));
        assertFalse(breakers.tryAcquire(model("a")));   // one probe at a time
        breakers.record(status(200), model("a"));
        assertTrue(breakers.tryAcquire(model("a")));
        assertTrue(breakers.models().isEmpty());
    }

    @Test
    void aRefusedPairGivesBackTheUpstreamsProbeSlot() {
        three(failure(ErrorCode.UPSTREAM_CONNECT_REFUSED), null);
        ticker.advance(COOLDOWN);
        Breakers b = breakers;
        // pair "a" ejected meanwhile, upstream half-open: "a" is refused, "b" takes the upstream's probe
        CircuitBreaker a = CircuitBreaker.of(1, Duration.ofMinutes(1), ticker);
        Breakers withPair = new Breakers(b.upstream(), m -> a);
        withPair.record(status(503), model("a"));
        assertFalse(withPair.tryAcquire(model("a")));
        assertTrue(withPair.tryAcquire(model("b")));
    }

    @Test
    void atMostMaxModelsPairsAreKeptThenAnswersCountAgainstTheUpstream() {
        for (int i = 0; i < Breakers.MAX_MODELS; i++) {
            assertTrue(breakers.tryAcquire(model("m" + i)));
            breakers.record(status(503), model("m" + i));
        }
        assertEquals(Breakers.MAX_MODELS, breakers.models().size());
        three(status(503), "one-too-many");
        assertEquals(Breakers.MAX_MODELS, made.size());
        assertEquals(State.OPEN, breakers.upstream().state());
    }

    @Test
    void aPairsWaitIsTheLongerOfItsOwnAndTheUpstreams() {
        three(status(503), "a");
        ticker.advance(Duration.ofSeconds(4));
        assertEquals(Duration.ofSeconds(6), breakers.remainingOpen(model("a")));
        assertEquals(Duration.ZERO, breakers.remainingOpen(model("b")));
        assertTrue(breakers.admits(model("b")));
        assertFalse(breakers.admits(model("a")));
    }
}
