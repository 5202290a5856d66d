package io.modelegress.server.upstream;

import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.FastThreadLocal;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The first wake-ups of one event loop's exchanges ({@link ExchangeTimers#FIRST_WAKE_NANOS} after each was armed),
 * kept in arming order on one intrusive list with one task on the loop's timer queue for its head.
 *
 * <p>Every entry is due a fixed time after it was added, on the loop's own monotonic clock, so appending keeps the
 * list in due order: adding and removing are a few field writes, where a task per exchange cost an allocation, a
 * heap insert and a heap removal on the loop's timer queue (issue 20). The task runs what is due and re-arms for
 * the new head: about one task a second per loop, however many exchanges come and go. Loop thread only.
 */
final class FirstWakes {
    private static final FastThreadLocal<FirstWakes> LOOP = new FastThreadLocal<>();

    private final EventExecutor loop;
    private final Runnable tick = this::tick;
    private ExchangeTimers head;
    private ExchangeTimers tail;
    private ScheduledFuture<?> task;

    private FirstWakes(EventExecutor loop) {
        this.loop = loop;
    }

    /** The list of {@code loop}, which must be the calling thread's. */
    static FirstWakes of(EventExecutor loop) {
        FirstWakes w = LOOP.get();
        if (w == null || w.loop != loop) { // a thread running several loops (only in tests): one list per loop
            w = new FirstWakes(loop);
            LOOP.set(w);
        }
        return w;
    }

    /** Appends {@code t}, due at {@code t.wakeAt}: never earlier than an entry added before it on this loop. */
    void add(ExchangeTimers t) {
        t.wakes = this;
        t.wakePrev = tail;
        t.wakeNext = null;
        if (tail == null) head = t;
        else tail.wakeNext = t;
        tail = t;
        if (task == null) task = loop.schedule(tick, Math.max(0, t.wakeAt - loop.ticker().nanoTime()), TimeUnit.NANOSECONDS);
    }

    void remove(ExchangeTimers t) {
        if (t.wakes != this) return;
        if (t.wakePrev == null) head = t.wakeNext;
        else t.wakePrev.wakeNext = t.wakeNext;
        if (t.wakeNext == null) tail = t.wakePrev;
        else t.wakeNext.wakePrev = t.wakePrev;
        t.wakes = null;
        t.wakePrev = null;
        t.wakeNext = null;
    }

    private void tick() {
        task = null;
        long now = loop.ticker().nanoTime();
        while (head != null && head.wakeAt <= now) {
            ExchangeTimers due = head;
            remove(due);
            due.wakeUp();
        }
        if (head != null && task == null) {
            task = loop.schedule(tick, Math.max(0, head.wakeAt - now), TimeUnit.NANOSECONDS);
        }
    }
}
