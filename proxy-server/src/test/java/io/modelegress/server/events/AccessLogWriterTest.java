package io.modelegress.server.events;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import io.modelegress.server.http.RequestContext;
import io.modelegress.server.testing.AccessLogCapture;
import java.io.Flushable;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** The access log's own thread: every line, in order, written in batches; a full queue drops and counts; the loop only queues. */
class AccessLogWriterTest {
    private final Logger logger = (Logger) LoggerFactory.getLogger("access.writer-test-" + System.nanoTime());
    private final Collecting sink = new Collecting();

    /** Keeps the lines and counts the batch flushes, like StdoutAccessAppender on stdout. */
    private static final class Collecting extends AppenderBase<ILoggingEvent> implements Flushable {
        final List<String> lines = Collections.synchronizedList(new ArrayList<>());
        final AtomicInteger flushes = new AtomicInteger();
        volatile CountDownLatch gate;

        @Override
        protected void append(ILoggingEvent e) {
            CountDownLatch g = gate;
            if (g != null) {
                try {
                    g.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException ex) {
                    Thread.currentThread().interrupt();
                }
            }
            lines.add(e.getFormattedMessage());
        }

        @Override
        public void flush() { flushes.incrementAndGet(); }
    }

    AccessLogWriterTest() {
        logger.setAdditive(false);
        logger.setLevel(Level.INFO);
        sink.setContext(logger.getLoggerContext());
        sink.start();
        logger.addAppender(sink);
    }

    @AfterEach
    void detach() {
        logger.detachAppender(sink);
    }

    private static AccessLine line(String id) {
        return new AccessLine(id, "POST", "/v1/chat/completions", "r", "u", null, 200, null, 1, false, null, 0, -1, 1_000_000,
                2_000_000, 10, 20, null, null, null);
    }

    @Test
    void linesFromTwoLoopsAllArriveInEachLoopsOrderInBatches() throws Exception {
        AccessLogWriter w = new AccessLogWriter(logger);
        int perThread = 5_000;
        List<Thread> loops = new ArrayList<>();
        for (String name : List.of("a", "b")) {
            Thread t = new Thread(() -> {
                for (int i = 0; i < perThread; i++) w.offer(line(name + "-" + i));
            });
            loops.add(t);
            t.start();
        }
        for (Thread t : loops) t.join(TimeUnit.SECONDS.toMillis(30));
        assertTrue(w.flush(10_000), "flushed within 10 s");
        assertEquals(0, w.dropped());
        assertEquals(2 * perThread, sink.lines.size());
        Map<String, Integer> next = new HashMap<>(Map.of("a", 0, "b", 0));
        for (String l : sink.lines) {
            String id = l.substring(l.indexOf("\"request_id\":\"") + 14, l.indexOf("\",\"method\""));
            String loop = id.substring(0, 1);
            assertEquals(next.get(loop), Integer.parseInt(id.substring(2)), "order of loop " + loop);
            next.put(loop, next.get(loop) + 1);
        }
        assertTrue(sink.flushes.get() <= 2 * perThread / 10,
                sink.flushes.get() + " flushes for " + 2 * perThread + " lines: the writer should batch");
    }

    @Test
    void aLineAfterAnIdleSpellIsWrittenWithoutWaitingForMore() throws Exception {
        AccessLogWriter w = new AccessLogWriter(logger);
        w.offer(line("first"));
        assertTrue(w.flush(5_000));
        Awaitility.await().pollDelay(Duration.ofMillis(50)).atMost(Duration.ofSeconds(5)).until(() -> true); // the writer parks
        w.offer(line("after-idle"));
        Awaitility.await().atMost(Duration.ofSeconds(2)).until(() -> sink.lines.size() == 2);
        assertTrue(sink.lines.get(1).contains("after-idle"));
        assertTrue(sink.flushes.get() >= 2);
    }

    @Test
    void aFullQueueDropsLinesAndCountsThemWithoutBlockingTheLoop() throws Exception {
        AccessLogWriter w = new AccessLogWriter(logger);
        sink.gate = new CountDownLatch(1); // stdout stops taking lines
        int offered = AccessLogWriter.CAPACITY + 500;
        long start = System.nanoTime();
        for (int i = 0; i < offered; i++) w.offer(line("l" + i));
        long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertTrue(tookMillis < 5_000, "offers took " + tookMillis + " ms");
        assertTrue(w.dropped() >= 499 && w.dropped() <= 500, "dropped " + w.dropped());
        sink.gate.countDown();
        assertTrue(w.flush(10_000));
        assertEquals(offered - w.dropped(), sink.lines.size());
    }

    /** On the event loop a line costs the copy of its figures: no JSON, no string formatting (a few KB before). */
    @Test
    void writingALineOnTheLoopAllocatesOnlyItsFigures() {
        try (AccessLogCapture capture = new AccessLogCapture()) {
            RequestContext rc = new RequestContext("0123456789abcdef0123456789abcdef", "POST", "/v1/chat/completions", System.nanoTime());
            rc.status = 200;
            rc.firstByteNanos = rc.startNanos + 1_000_000;
            for (int i = 0; i < 5_000; i++) AccessLog.write(rc, rc.startNanos + 2_000_000);
            assertTrue(AccessLog.flush(10_000));
            com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
            long tid = Thread.currentThread().getId();
            int n = 5_000;
            long before = mx.getThreadAllocatedBytes(tid);
            for (int i = 0; i < n; i++) AccessLog.write(rc, rc.startNanos + 2_000_000);
            long perLine = (mx.getThreadAllocatedBytes(tid) - before) / n;
            assertTrue(AccessLog.flush(10_000));
            assertTrue(perLine <= 200, "a line allocated " + perLine + " bytes on the calling thread");
            Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> capture.lines().size() >= 2 * n - AccessLog.dropped());
            assertTrue(capture.lines().get(0).contains("\"duration_ms\":2.000"), capture.lines().get(0));
        }
    }
}
