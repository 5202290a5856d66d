package io.modelegress.server.upstream;

import io.modelegress.core.timeout.Deadline;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * The timers of one exchange, all on its event loop: the whole deadline, the agent SDK's announced limit, the one
 * phase timer (response headers, first token or stream idle), and a pending retry. {@link #cancelAll} on every exit.
 */
final class ExchangeTimers {
    private final EventExecutor loop;
    private final BooleanSupplier finished;
    private ScheduledFuture<?> deadline;
    private ScheduledFuture<?> sdk;
    private ScheduledFuture<?> phase;
    private ScheduledFuture<?> retry;

    ExchangeTimers(EventExecutor loop, BooleanSupplier finished) {
        this.loop = loop;
        this.finished = finished;
    }

    void deadline(long nanos, Runnable onFire) { deadline = schedule(nanos, onFire); }

    void sdkLimit(long nanos, Runnable onFire) { sdk = schedule(nanos, onFire); }

    /** Arms the phase timer, replacing the one before. */
    void phase(Deadline.Limit limit, Runnable onFire) {
        cancelPhase();
        phase = schedule(limit.nanos(), onFire);
    }

    void cancelPhase() {
        if (phase != null) {
            phase.cancel(false);
            phase = null;
        }
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

    void cancelAll() {
        cancelPhase();
        for (ScheduledFuture<?> f : new ScheduledFuture<?>[] {deadline, sdk, retry}) {
            if (f != null) f.cancel(false);
        }
        retry = null;
    }

    private ScheduledFuture<?> schedule(long nanos, Runnable onFire) {
        return loop.schedule(() -> {
            if (!finished.getAsBoolean()) onFire.run();
        }, nanos, TimeUnit.NANOSECONDS);
    }
}
