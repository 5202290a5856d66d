package io.modelegress.server.http;

import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import io.netty.util.concurrent.Ticker;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * An idle timeout with no work per read or write: at most one check pending, armed when the connection falls idle
 * (none pending), which then closes it, waits the rest (it was active since), or stops (it is busy: the next
 * {@link #idleFrom} arms it again). Both sides use it: the agent connection's {@code server.idle_timeout}
 * ({@code DownstreamGuard}) and a pooled connection's {@code pool.idle_timeout} ({@code ConnectionPool.Watch}),
 * where Netty's {@code IdleStateHandler} stamped the clock on every read and put a listener on every write. Runs on
 * the connection's event loop only.
 */
public final class IdleTimer {
    private final EventExecutor loop;
    private final Ticker ticker;
    private final long timeoutNanos;
    /** Still idle now? Called when a check fires; false stops the checks until the next {@link #idleFrom}. */
    private final BooleanSupplier idle;
    private final Runnable expire;
    private long sinceNanos;
    private ScheduledFuture<?> check;

    /** {@code timeoutNanos} 0 turns it off. */
    public IdleTimer(EventExecutor loop, long timeoutNanos, BooleanSupplier idle, Runnable expire) {
        this.loop = loop;
        this.ticker = loop.ticker();
        this.timeoutNanos = timeoutNanos;
        this.idle = idle;
        this.expire = expire;
    }

    /** The loop's clock (a mock one under {@code EmbeddedChannel}). */
    public long now() { return ticker.nanoTime(); }

    /** Idle from {@code nanos} on: arms a check unless one is pending, which will wait the rest. */
    public void idleFrom(long nanos) {
        sinceNanos = nanos;
        if (check == null && timeoutNanos > 0) check = loop.schedule(this::fire, timeoutNanos, TimeUnit.NANOSECONDS);
    }

    /** Activity at {@code nanos}, while idle: the timeout counts from here. */
    public void touch(long nanos) { sinceNanos = nanos; }

    public void cancel() {
        if (check != null) {
            check.cancel(false);
            check = null;
        }
    }

    private void fire() {
        check = null;
        if (!idle.getAsBoolean()) return;
        long left = sinceNanos + timeoutNanos - ticker.nanoTime();
        if (left <= 0) expire.run();
        else check = loop.schedule(this::fire, left, TimeUnit.NANOSECONDS);
    }
}
