package io.modelegress.server.events;

import io.netty.util.internal.PlatformDependent;
import java.io.Flushable;
import java.io.IOException;
import java.util.Iterator;
import java.util.Queue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The access log's own thread: event loops queue {@link AccessLine}s (an offer on a bounded lock-free queue, never a
 * wait), this thread builds the JSON, hands it to the "access" logger and, when it has drained the queue, flushes
 * the logger's appenders once ({@link StdoutAccessAppender}: one write for the batch, not one per line).
 *
 * <p>Under load it drains every {@link #BATCH_NANOS} without being woken; idle, it sleeps until a line comes, so
 * an idle sidecar pays no wake-ups. A full queue drops the line and says so on stderr (at most every 10 s).
 */
final class AccessLogWriter {
    static final int CAPACITY = 16_384;
    /** Under load, how long lines gather before a batch is written: the access log's added delay. */
    static final long BATCH_NANOS = TimeUnit.MILLISECONDS.toNanos(1);
    private static final long WARN_EVERY_NANOS = TimeUnit.SECONDS.toNanos(10);

    private final Logger log;
    private final Queue<AccessLine> queue = PlatformDependent.newFixedMpscQueue(CAPACITY);
    private final LongAdder dropped = new LongAdder();
    private final Thread thread;
    private volatile boolean parked;
    private volatile boolean busy;

    AccessLogWriter(Logger log) {
        this.log = log;
        this.thread = new Thread(this::run, "egress-access-log");
        thread.setDaemon(true);
        thread.start();
    }

    void offer(AccessLine line) {
        if (!queue.offer(line)) {
            dropped.increment();
            return;
        }
        if (parked) LockSupport.unpark(thread);
    }

    long dropped() { return dropped.sum(); }

    /** Waits until every line queued before the call is written and flushed, at most {@code millis}. */
    boolean flush(long millis) {
        long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        LockSupport.unpark(thread);
        while (!queue.isEmpty() || busy) {
            if (System.nanoTime() - end >= 0) return false;
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
        }
        return true;
    }

    private void run() {
        StringBuilder b = new StringBuilder(512);
        long warnedDrops = 0;
        long warnedAt = System.nanoTime() - WARN_EVERY_NANOS;
        while (true) {
            busy = true; // before the first poll: flush() waits for what is taken here, too
            boolean wrote = false;
            try {
                for (AccessLine l; (l = queue.poll()) != null; wrote = true) {
                    b.setLength(0);
                    log.info(l.appendTo(b).toString());
                }
                if (wrote) flushAppenders();
            } catch (RuntimeException e) {
                LoggerFactory.getLogger(AccessLogWriter.class).warn("access log: a line could not be written", e);
            } finally {
                busy = false;
            }
            long drops = dropped.sum();
            if (drops != warnedDrops && System.nanoTime() - warnedAt >= WARN_EVERY_NANOS) {
                LoggerFactory.getLogger(AccessLogWriter.class).warn("access log: {} lines dropped since start (stdout is "
                        + "not keeping up with {} lines queued)", drops, CAPACITY);
                warnedDrops = drops;
                warnedAt = System.nanoTime();
            }
            if (wrote) {
                LockSupport.parkNanos(this, BATCH_NANOS); // busy: let the next batch gather, nobody needs to wake us
                continue;
            }
            parked = true;
            if (queue.isEmpty()) LockSupport.park(this); // an offer after this check unparks: no line waits unseen
            parked = false;
        }
    }

    /** Flushes the appenders that buffer (ours on stdout); appenders of a logback.xml that do not are left alone. */
    private void flushAppenders() {
        if (!(log instanceof ch.qos.logback.classic.Logger logger)) return;
        for (Iterator<ch.qos.logback.core.Appender<ch.qos.logback.classic.spi.ILoggingEvent>> it = logger.iteratorForAppenders(); it.hasNext(); ) {
            if (it.next() instanceof Flushable f) {
                try {
                    f.flush();
                } catch (IOException e) {
                    // stdout closed: nothing to tell it to; the next batch tries again
                }
            }
        }
    }
}
