package io.modelegress.server.upstream;

import io.modelegress.core.timeout.Deadline;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * The timers of one exchange, all on its event loop: the whole deadline, the agent SDK's announced limit, the one
 * phase timer (response headers, first token or stream idle), and a pending retry. {@link #cancelAll} on every exit.
 *
 * <p>The first three share one scheduled wake-up at the earliest of their expiries. Moving a limit later (the
 * stream-idle timer after every chunk of a stream) or dropping one only updates a field: the wake-up, when it comes,
 * runs what is due and schedules itself for what is left. The event loop's timer queue is touched only when a limit
 * moves earlier than the pending wake-up, so a 50-chunk stream costs a handful of queue operations, not 100.
 * Times come from the loop's own ticker, the clock its scheduler runs on (a mock one in tests).
 */
final class ExchangeTimers {
    private static final long NONE = Long.MAX_VALUE;
    /** The latest an exchange's first wake-up comes (see {@link #arm}). */
    static final long FIRST_WAKE_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final EventExecutor loop;
    private final BooleanSupplier finished;
    private final Runnable wakeUp = this::wakeUp;
    private long deadlineAt = NONE;
    private long sdkAt = NONE;
    private long phaseAt = NONE;
    private Runnable onDeadline;
    private Runnable onSdk;
    private Runnable onPhase;
    private ScheduledFuture<?> wake;
    long wakeAt = NONE;
    // While the first wake-up waits on the loop's FirstWakes list instead of the timer queue.
    FirstWakes wakes;
    ExchangeTimers wakePrev;
    ExchangeTimers wakeNext;
    /** A wake-up has run: from now on one is scheduled at the exact earliest limit. */
    private boolean firstWakeDone;
    private ScheduledFuture<?> retry;
    private ScheduledFuture<?> hedge;

    ExchangeTimers(EventExecutor loop, BooleanSupplier finished) {
        this.loop = loop;
        this.finished = finished;
    }

    void deadline(long nanos, Runnable onFire) {
        deadlineAt = loop.ticker().nanoTime() + nanos;
        onDeadline = onFire;
        arm();
    }

    /** The request deadline no longer applies (an MCP event stream, once committed: docs/mcp.md). */
    void liftDeadline() {
        deadlineAt = NONE;
        onDeadline = null;
    }

    void sdkLimit(long nanos, Runnable onFire) {
        sdkAt = loop.ticker().nanoTime() + nanos;
        onSdk = onFire;
        arm();
    }

    /**
     * Arms the phase timer, replacing the one before. A phase the deadline caps ({@link Deadline.Limit#isDeadline})
     * is the deadline's own timer: it is not armed twice, so the two cannot race (on a busy loop the phase's clock
     * read could land it a few microseconds ahead and answer with the phase's message instead of the deadline's).
     */
    void phase(Deadline.Limit limit, Runnable onFire) {
        if (limit.isDeadline() && deadlineAt != NONE) {
            cancelPhase();
            return;
        }
        phaseAt = loop.ticker().nanoTime() + limit.nanos();
        onPhase = onFire;
        arm();
    }

    void cancelPhase() {
        phaseAt = NONE;
        onPhase = null;
    }

    /** Runs the next attempt after {@code nanos} (at once, but not re-entrantly, when zero). */
    void retry(long nanos, Runnable attempt) {
        if (nanos <= 0) {
            loop.execute(attempt);
        } else {
            retry = loop.schedule(() -> {
                retry = null;
                attempt.run();
            }, nanos, TimeUnit.NANOSECONDS);
        }
    }

    /** Starts a hedge after {@code nanos} ({@code routes[].hedge_after}), unless the exchange ended first. */
    void hedge(long nanos, Runnable start) {
        hedge = loop.schedule(() -> {
            hedge = null;
            start.run();
        }, nanos, TimeUnit.NANOSECONDS);
    }

    void cancelAll() {
        if (hedge != null) {
            hedge.cancel(false);
            hedge = null;
        }
        cancelPhase();
        deadlineAt = NONE;
        sdkAt = NONE;
        onDeadline = null;
        onSdk = null;
        disarm();
        if (retry != null) {
            retry.cancel(false);
            retry = null;
        }
    }

    /**
     * Makes sure a wake-up is scheduled no later than the earliest limit. The exchange's first one comes within
     * {@link #FIRST_WAKE_NANOS} even when its limit is further: the limits armed right after the deadline (response
     * headers, then the body's idle limit, each tens of seconds) then fall after it and cost no queue operation of
     * their own; an ordinary exchange is over before it fires and schedules one task, not three (issue 20). A wake-up
     * with nothing due re-arms at the exact earliest limit; a limit shorter than that horizon is scheduled as itself.
     */
    private void arm() {
        if (finished.getAsBoolean()) return;
        long next = Math.min(deadlineAt, Math.min(sdkAt, phaseAt));
        if (next == NONE || (wake != null || wakes != null) && wakeAt <= next) return;
        disarm();
        long now = loop.ticker().nanoTime();
        if (!firstWakeDone && next >= now + FIRST_WAKE_NANOS) {
            wakeAt = now + FIRST_WAKE_NANOS;
            FirstWakes.of(loop).add(this);
            return;
        }
        wakeAt = next;
        wake = loop.schedule(wakeUp, Math.max(0, next - now), TimeUnit.NANOSECONDS);
    }

    private void disarm() {
        if (wake != null) wake.cancel(false);
        if (wakes != null) wakes.remove(this);
        wake = null;
        wakeAt = NONE;
    }

    /**
     * Runs the earliest limit that is due (on a tie: deadline, then SDK, then phase), then re-arms for the rest. The
     * first comes from the loop's {@link FirstWakes} list (which has unlinked it), the others from the timer queue.
     */
    void wakeUp() {
        firstWakeDone = true;
        wake = null;
        wakeAt = NONE;
        if (finished.getAsBoolean()) return;
        long now = loop.ticker().nanoTime();
        Runnable due = null;
        long first = Math.min(deadlineAt, Math.min(sdkAt, phaseAt));
        if (first <= now) {
            if (deadlineAt == first) {
                due = onDeadline;
                deadlineAt = NONE;
                onDeadline = null;
            } else if (sdkAt == first) {
                due = onSdk;
                sdkAt = NONE;
                onSdk = null;
            } else {
                due = onPhase;
                cancelPhase();
            }
        }
        try {
            if (due != null) due.run();
        } finally {
            // Even when the callback throws, the other limits stay armed: the deadline is the last safety net.
            if (!finished.getAsBoolean()) arm();
        }
    }
}
