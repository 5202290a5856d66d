package io.modelegress.server.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lettuce.core.RedisCommandTimeoutException;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The loop-kept command deadlines of a loop-bound Redis connection, on an embedded loop's frozen clock. */
class LoopDeadlinesTest {
    private static final long TIMEOUT_MS = 200;
    private EmbeddedChannel loop;
    private LoopDeadlines deadlines;

    @BeforeEach
    void setUp() {
        loop = new EmbeddedChannel();
        loop.freezeTime();
        deadlines = new LoopDeadlines(loop.eventLoop(), TimeUnit.MILLISECONDS.toNanos(TIMEOUT_MS));
    }

    @AfterEach
    void tearDown() {
        loop.finishAndReleaseAll();
    }

    private void after(long millis) {
        loop.advanceTimeBy(millis, TimeUnit.MILLISECONDS);
        loop.runScheduledPendingTasks();
    }

    @Test
    void aCommandWithoutAnswerFailsAtItsTimeoutWhenTheLoopIsOnTime() {
        CompletableFuture<Object> c = new CompletableFuture<>();
        deadlines.add(c);
        after(TIMEOUT_MS - 1);
        assertFalse(c.isDone(), "failed before its timeout");
        after(1);
        assertTrue(c.isCompletedExceptionally());
        Throwable why = assertThrowsCause(c);
        assertInstanceOf(RedisCommandTimeoutException.class, why);
        assertTrue(why.getMessage().contains("200 ms (cluster.redis.timeout)"), why.getMessage());
    }

    @Test
    void aSweepThatRunsLateLooksAgainAfterTheNextTurnSoAnAnswerReadThenIsKept() {
        CompletableFuture<Object> c = new CompletableFuture<>();
        deadlines.add(c);
        after(5 * TIMEOUT_MS); // the loop was busy 800 ms past the deadline: the answer may be unread in the socket
        assertFalse(c.isDone(), "timed out by a sweep that ran late, before the loop could read the answer");
        c.complete("answer"); // the next turn reads it
        after(TIMEOUT_MS);
        assertEquals("answer", c.join());
        assertEquals(0, deadlines.waiting());
    }

    @Test
    void aLoopLateOnEverySweepStillFailsTheCommandAfterThreeLooks() {
        CompletableFuture<Object> c = new CompletableFuture<>();
        deadlines.add(c);
        long waited = 0;
        while (!c.isDone() && waited < 10 * TIMEOUT_MS) {
            after(TIMEOUT_MS + 100); // every sweep runs 100 ms late
            waited += TIMEOUT_MS + 100;
        }
        assertTrue(c.isCompletedExceptionally(), "never failed");
        assertEquals(4 * (TIMEOUT_MS + 100), waited, "failed after " + waited + " ms: the deadline, then three late looks");
    }

    @Test
    void commandsAnsweredInOrderAreDroppedAndOnlyTheUnansweredOnesTimeOut() {
        List<CompletableFuture<Object>> sent = new ArrayList<>();
        for (int i = 0; i < 40; i++) { // past the first ring's 16 slots
            CompletableFuture<Object> c = new CompletableFuture<>();
            sent.add(c);
            deadlines.add(c);
        }
        for (int i = 0; i < 25; i++) sent.get(i).complete(i);
        after(TIMEOUT_MS);
        for (int i = 0; i < 25; i++) assertEquals(i, sent.get(i).join());
        for (int i = 25; i < 40; i++) assertTrue(sent.get(i).isCompletedExceptionally(), "command " + i + " not timed out");
        assertEquals(0, deadlines.waiting());
        CompletableFuture<Object> later = new CompletableFuture<>();
        deadlines.add(later);
        after(TIMEOUT_MS / 2);
        assertFalse(later.isDone(), "a later command got an earlier one's deadline");
        after(TIMEOUT_MS / 2);
        assertTrue(later.isCompletedExceptionally());
    }

    private static Throwable assertThrowsCause(CompletableFuture<Object> c) {
        try {
            c.join();
        } catch (CompletionException e) {
            return e.getCause();
        }
        throw new AssertionError("completed normally");
    }
}
