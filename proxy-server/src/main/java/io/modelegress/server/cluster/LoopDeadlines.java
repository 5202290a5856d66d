package io.modelegress.server.cluster;

import io.lettuce.core.RedisCommandTimeoutException;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Ticker;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * {@code cluster.redis.timeout} for the commands of one loop-bound Redis connection, kept by that loop. Lettuce's
 * own timer runs on another thread and would count the time this loop spent on other work (a slow handler, a cold
 * class load) while Redis's answer sat unread in the socket: the command would time out, Redis be marked down and a
 * 429 pause be lost, though Redis answered at once. Here a sweep runs on the loop: when it runs late (the loop was
 * busy), it looks again after the loop's next turn (which reads the sockets first); a loop late on three sweeps in a
 * row fails the command all the same.
 * Commands are answered in order on a connection, so the oldest one is the only one to look at. Loop thread only.
 */
final class LoopDeadlines implements Runnable {
    private final EventLoop loop;
    private final Ticker ticker; // the loop's own clock, the one its timers run on
    private final long timeoutNanos;
    private final long lateNanos;
    private CompletableFuture<?>[] commands = new CompletableFuture<?>[16];
    private long[] deadlines = new long[16];
    private int head;
    private int size;
    private boolean scheduled;
    /** Sweeps in a row that ran late: a loop late on every one of them fails its commands all the same. */
    private int lateLooks;
    private static final int MAX_LATE_LOOKS = 3;
    private long sweepAt;

    LoopDeadlines(EventLoop loop, long timeoutNanos) {
        this.loop = loop;
        this.ticker = loop.ticker();
        this.timeoutNanos = timeoutNanos;
        // A sweep this much past its time ran after a turn that kept the loop from its sockets.
        this.lateNanos = Math.max(TimeUnit.MILLISECONDS.toNanos(5), timeoutNanos / 10);
    }

    /** A command just written on this loop's connection. */
    void add(CompletableFuture<?> command) {
        long now = ticker.nanoTime();
        if (size == commands.length) grow();
        int i = (head + size++) & (commands.length - 1);
        commands[i] = command;
        deadlines[i] = now + timeoutNanos;
        if (!scheduled) sweepIn(timeoutNanos, now);
    }

    /** How many commands are waiting for their answer (for tests). */
    int waiting() {
        dropAnswered();
        return size;
    }

    @Override
    public void run() {
        scheduled = false;
        long now = ticker.nanoTime();
        dropAnswered();
        if (size == 0) return;
        if (now - sweepAt > lateNanos && lateLooks < MAX_LATE_LOOKS) {
            // The loop was busy past this sweep's time, so what Redis answered meanwhile may not have been read yet:
            // look again after the loop's next turn, which reads its sockets before it runs its timers.
            lateLooks++;
            sweepIn(Math.max(lateNanos, timeoutNanos / 4), now);
            return;
        }
        lateLooks = 0;
        while (size > 0 && deadlines[head] - now <= 0) {
            CompletableFuture<?> c = pop();
            if (!c.isDone()) {
                c.completeExceptionally(new RedisCommandTimeoutException("no answer from Redis within "
                        + TimeUnit.NANOSECONDS.toMillis(timeoutNanos) + " ms (cluster.redis.timeout)"));
            }
            dropAnswered();
        }
        if (size > 0) sweepIn(deadlines[head] - now, now);
    }

    private void dropAnswered() {
        while (size > 0 && commands[head].isDone()) pop();
    }

    private CompletableFuture<?> pop() {
        CompletableFuture<?> c = commands[head];
        commands[head] = null;
        head = (head + 1) & (commands.length - 1);
        size--;
        return c;
    }

    private void sweepIn(long nanos, long now) {
        scheduled = true;
        sweepAt = now + nanos;
        loop.schedule(this, nanos, TimeUnit.NANOSECONDS);
    }

    private void grow() {
        int n = commands.length;
        CompletableFuture<?>[] c = new CompletableFuture<?>[n * 2];
        long[] d = new long[n * 2];
        for (int k = 0; k < size; k++) {
            c[k] = commands[(head + k) & (n - 1)];
            d[k] = deadlines[(head + k) & (n - 1)];
        }
        commands = c;
        deadlines = d;
        head = 0;
    }
}
