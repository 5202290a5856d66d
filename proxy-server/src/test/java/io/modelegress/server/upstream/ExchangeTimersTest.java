package io.modelegress.server.upstream;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.modelegress.core.timeout.Deadline;
import io.netty.channel.embedded.EmbeddedChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The exchange's shared wake-up, on an EmbeddedChannel's frozen clock: what fires, when, and in which order. */
class ExchangeTimersTest {
    private final EmbeddedChannel channel = new EmbeddedChannel();
    private final List<String> fired = new ArrayList<>();
    private boolean finished;
    private final ExchangeTimers timers;

    ExchangeTimersTest() {
        channel.freezeTime();
        timers = new ExchangeTimers(channel.eventLoop(), () -> finished);
    }

    @AfterEach
    void close() {
        channel.finishAndReleaseAll();
    }

    private static Deadline.Limit limit(long millis) {
        return new Deadline.Limit(TimeUnit.MILLISECONDS.toNanos(millis), "timeouts.test", Duration.ofMillis(millis));
    }

    private void advance(long millis) {
        channel.advanceTimeBy(millis, TimeUnit.MILLISECONDS);
        channel.runScheduledPendingTasks();
    }

    @Test
    void aPhaseFiresAtItsLimitNotBefore() {
        timers.deadline(TimeUnit.SECONDS.toNanos(10), () -> fired.add("deadline"));
        timers.phase(limit(1000), () -> fired.add("phase"));
        advance(999);
        assertEquals(List.of(), fired);
        advance(1);
        assertEquals(List.of("phase"), fired);
        advance(8_999);
        assertEquals(List.of("phase"), fired);
        advance(1);
        assertEquals(List.of("phase", "deadline"), fired);
    }

    @Test
    void aPhaseMovedLaterFiresOnlyAtItsLastLimit() {
        timers.deadline(TimeUnit.SECONDS.toNanos(60), () -> fired.add("deadline"));
        // A stream-idle timer re-armed after every chunk, 100 ms apart, with a 500 ms limit.
        for (int chunk = 0; chunk < 50; chunk++) {
            timers.phase(limit(500), () -> fired.add("idle"));
            advance(100);
        }
        assertEquals(List.of(), fired, "never idle for 500 ms");
        advance(399);
        assertEquals(List.of(), fired);
        advance(1);
        assertEquals(List.of("idle"), fired);
    }

    @Test
    void aPhaseMovedEarlierFiresAtTheEarlierLimit() {
        timers.phase(limit(5000), () -> fired.add("headers"));
        timers.phase(limit(200), () -> fired.add("idle"));
        advance(200);
        assertEquals(List.of("idle"), fired);
        advance(10_000);
        assertEquals(List.of("idle"), fired, "the replaced phase never fires");
    }

    @Test
    void aCancelledPhaseAndACancelledExchangeFireNothing() {
        timers.deadline(TimeUnit.SECONDS.toNanos(2), () -> fired.add("deadline"));
        timers.phase(limit(1000), () -> fired.add("phase"));
        timers.cancelPhase();
        advance(1500);
        assertEquals(List.of(), fired);
        timers.cancelAll();
        advance(10_000);
        assertEquals(List.of(), fired);
    }

    @Test
    void onATieTheDeadlineFiresFirstAndAFinishedExchangeStopsTheRest() {
        timers.deadline(TimeUnit.SECONDS.toNanos(1), () -> {
            fired.add("deadline");
            finished = true;
        });
        timers.phase(limit(1000), () -> fired.add("phase"));
        timers.sdkLimit(TimeUnit.SECONDS.toNanos(1), () -> fired.add("sdk"));
        advance(1000);
        advance(1);
        assertEquals(List.of("deadline"), fired);
    }

    @Test
    void theSdkLimitFiresBeforeALaterPhaseAndThePhaseStillFollows() {
        timers.phase(limit(3000), () -> fired.add("phase"));
        timers.sdkLimit(TimeUnit.SECONDS.toNanos(1), () -> fired.add("sdk"));
        advance(1000);
        assertEquals(List.of("sdk"), fired);
        advance(2000);
        assertEquals(List.of("sdk", "phase"), fired);
    }
}
