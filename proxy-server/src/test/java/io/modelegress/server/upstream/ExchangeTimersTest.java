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

    /**
     * An ordinary exchange (issue 20): the deadline, then the response-headers limit, then the body's idle limit, and
     * the answer in well under a second: one task on the event loop's timer queue, where each earlier limit used to
     * cancel and schedule another (three per request).
     */
    @Test
    void anOrdinaryExchangeSchedulesOneWakeUp() {
        int[] scheduled = {0};
        ExchangeTimers t = new ExchangeTimers(counting(channel.eventLoop(), scheduled), () -> finished);
        t.deadline(TimeUnit.SECONDS.toNanos(600), () -> fired.add("deadline"));
        advance(1);
        t.phase(limit(120_000), () -> fired.add("headers"));
        advance(1);
        t.phase(limit(60_000), () -> fired.add("idle"));
        advance(1);
        t.cancelAll();
        assertEquals(1, scheduled[0], "timer tasks scheduled for one ordinary exchange");
        assertEquals(List.of(), fired);
    }

    /**
     * A thousand ordinary exchanges on one loop, each answered in a few milliseconds: their first wake-ups share the
     * loop's one list (FirstWakes) and one task on its timer queue, not a task each.
     */
    @Test
    void aThousandOrdinaryExchangesOnOneLoopShareOneTimerTask() {
        int[] scheduled = {0};
        io.netty.util.concurrent.EventExecutor loop = counting(channel.eventLoop(), scheduled);
        for (int i = 0; i < 1000; i++) {
            ExchangeTimers t = new ExchangeTimers(loop, () -> finished);
            t.deadline(TimeUnit.SECONDS.toNanos(600), () -> fired.add("deadline"));
            t.phase(limit(120_000), () -> fired.add("headers"));
            if (i % 10 == 0) advance(1);
            t.cancelAll();
        }
        assertEquals(1, scheduled[0], "timer tasks scheduled for 1000 ordinary exchanges");
        advance(5_000);
        assertEquals(List.of(), fired);
    }

    /** Exchanges armed at different times each wake a second after their own arming, and fire at their own limit. */
    @Test
    void firstWakeUpsOnTheSharedListKeepEachExchangesOwnLimits() {
        ExchangeTimers a = new ExchangeTimers(channel.eventLoop(), () -> false);
        ExchangeTimers gone = new ExchangeTimers(channel.eventLoop(), () -> false);
        ExchangeTimers b = new ExchangeTimers(channel.eventLoop(), () -> false);
        a.deadline(TimeUnit.MILLISECONDS.toNanos(1_500), () -> fired.add("a"));
        advance(200);
        gone.deadline(TimeUnit.MILLISECONDS.toNanos(1_100), () -> fired.add("gone"));
        advance(300);
        b.deadline(TimeUnit.MILLISECONDS.toNanos(1_200), () -> fired.add("b")); // due at 1,700 ms
        gone.cancelAll();
        advance(999); // 1,499 ms
        assertEquals(List.of(), fired);
        advance(1);
        assertEquals(List.of("a"), fired);
        advance(199);
        assertEquals(List.of("a"), fired);
        advance(1);
        assertEquals(List.of("a", "b"), fired);
        advance(10_000);
        assertEquals(List.of("a", "b"), fired, "the cancelled exchange never fires");
    }

    /**
     * A phase capped by the deadline is the deadline: armed a moment later from a clock read a moment earlier, it
     * used to land a microsecond ahead of the deadline on a busy loop and answer with its own message. Only the
     * deadline fires, at its time; a phase with a limit of its own still fires.
     */
    @Test
    void aPhaseTheDeadlineCapsIsNotArmedTwice() {
        timers.deadline(TimeUnit.MILLISECONDS.toNanos(900), () -> fired.add("deadline"));
        advance(2);
        timers.phase(new Deadline.Limit(TimeUnit.MILLISECONDS.toNanos(897), "the agent SDK's own timeout", Duration.ofMillis(900)),
                () -> fired.add("phase"));
        advance(897);
        assertEquals(List.of(), fired);
        advance(1);
        assertEquals(List.of("deadline"), fired);
        advance(5_000);
        assertEquals(List.of("deadline"), fired);

        ExchangeTimers other = new ExchangeTimers(channel.eventLoop(), () -> false);
        other.deadline(TimeUnit.MILLISECONDS.toNanos(900), () -> fired.add("other deadline"));
        other.phase(limit(300), () -> fired.add("own phase"));
        advance(300);
        assertEquals(List.of("deadline", "own phase"), fired);
    }

    /** The early first wake-up changes no limit: the long ones still fire at their time, a short one at its own. */
    @Test
    void limitsFireAtTheirTimeAfterTheEarlyFirstWakeUp() {
        timers.deadline(TimeUnit.SECONDS.toNanos(10), () -> fired.add("deadline"));
        timers.phase(limit(3_000), () -> fired.add("headers"));
        advance(1_000); // the first wake-up: nothing due
        assertEquals(List.of(), fired);
        advance(1_999);
        assertEquals(List.of(), fired);
        advance(1);
        assertEquals(List.of("headers"), fired);
        timers.phase(limit(200), () -> fired.add("short"));
        advance(200);
        assertEquals(List.of("headers", "short"), fired);
        advance(6_799);
        assertEquals(List.of("headers", "short"), fired);
        advance(1);
        assertEquals(List.of("headers", "short", "deadline"), fired);
    }

    /** The loop, counting what is put on its timer queue. */
    private static io.netty.util.concurrent.EventExecutor counting(io.netty.util.concurrent.EventExecutor loop, int[] scheduled) {
        return (io.netty.util.concurrent.EventExecutor) java.lang.reflect.Proxy.newProxyInstance(
                ExchangeTimersTest.class.getClassLoader(), new Class<?>[] {io.netty.util.concurrent.EventExecutor.class},
                (proxy, method, args) -> {
                    if (method.getName().equals("schedule")) scheduled[0]++;
                    try {
                        return method.invoke(loop, args);
                    } catch (java.lang.reflect.InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }
}
