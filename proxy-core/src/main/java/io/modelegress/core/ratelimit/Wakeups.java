package io.modelegress.core.ratelimit;

import io.modelegress.core.time.Ticker;
import java.util.function.LongConsumer;

/**
 * A limiter's one pending wake-up: asks the scheduler to wake it at the earliest time something is due (a start, an
 * expiry), and not again while an early enough wake-up is pending. {@code ...Locked}: under the limiter's lock.
 */
final class Wakeups {
    static final long NEVER = Long.MAX_VALUE;

    private final WakeScheduler scheduler;
    private final Ticker ticker;
    private long wakeAtNanos = NEVER; // guarded by the limiter's lock

    Wakeups(WakeScheduler scheduler, Ticker ticker) {
        this.scheduler = scheduler;
        this.ticker = ticker;
    }

    /** Returns {@code due} if a wake-up must be scheduled for it, or {@link #NEVER} when one early enough is pending. */
    long claimLocked(long due) {
        if (due >= wakeAtNanos) return NEVER;
        wakeAtNanos = due;
        return due;
    }

    /** Schedules the claimed wake-up; {@code onWake} runs then (it must lock and call {@link #wokeLocked}). */
    void schedule(long due, LongConsumer onWake) {
        scheduler.schedule(() -> onWake.accept(due), Math.max(0, due - ticker.nanos()));
    }

    void wokeLocked(long due) {
        if (wakeAtNanos == due) wakeAtNanos = NEVER;
    }
}
