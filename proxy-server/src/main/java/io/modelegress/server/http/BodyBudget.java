package io.modelegress.server.http;

import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.util.internal.PlatformDependent;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The process-wide budget for buffered request bodies ({@code server.max_buffered_bytes}). Bodies are held whole so a
 * retry can resend them; together they must stay well inside the direct-memory limit, or an event loop ends up
 * blocked in the JDK's direct-memory reservation and the whole process wedges. A body that does not fit is refused
 * at once ({@code overloaded}), never waited for. Lock-free: one counter, shared by every event loop.
 */
public final class BodyBudget {
    private final AtomicLong used = new AtomicLong();
    private volatile long limit;

    public BodyBudget(long limit) { this.limit = limit; }

    /** {@code configured} when positive, else half of the direct memory Netty may use (the rest serves reads and responses). */
    public static long resolve(long configured) {
        return configured > 0 ? configured : Math.max(1 << 20, PlatformDependent.maxDirectMemory() / 2);
    }

    /** A reload may change the limit; bodies already held keep their share. */
    public void limit(long bytes) { this.limit = bytes; }

    public long limit() { return limit; }

    public long used() { return used.get(); }

    /** Takes {@code n} bytes if they fit under the limit. */
    public boolean tryReserve(long n) {
        if (n <= 0) return true;
        for (;;) {
            long u = used.get();
            if (u + n > limit) return false;
            if (used.compareAndSet(u, u + n)) return true;
        }
    }

    public void release(long n) {
        if (n > 0) used.addAndGet(-n);
    }

    /** Releases an aggregated request and its share of the budget: the one way a buffered request is let go. */
    public void release(FullHttpRequest req) {
        release(req.content().readableBytes());
        req.release();
    }
}
