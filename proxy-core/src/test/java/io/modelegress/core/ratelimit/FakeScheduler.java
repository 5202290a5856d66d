package io.modelegress.core.ratelimit;

import io.modelegress.core.time.ManualTicker;
import java.time.Duration;
import java.util.Comparator;
import java.util.PriorityQueue;

/** An event-loop timer on a {@link ManualTicker}: tasks run, at their due time, as the test moves the clock. */
final class FakeScheduler implements WakeScheduler {
    private record Task(long dueNanos, long sequence, Runnable task) { }

    private final ManualTicker ticker;
    private final PriorityQueue<Task> tasks =
            new PriorityQueue<>(Comparator.comparingLong(Task::dueNanos).thenComparingLong(Task::sequence));
    private long sequence;

    FakeScheduler(ManualTicker ticker) {
        this.ticker = ticker;
    }

    @Override
    public void schedule(Runnable task, long delayNanos) {
        tasks.add(new Task(ticker.nanos() + delayNanos, sequence++, task));
    }

    /** Moves the clock forward by {@code d}, running each task that falls due on the way at its due time. */
    void advance(Duration d) {
        long end = ticker.nanos() + d.toNanos();
        while (!tasks.isEmpty() && tasks.peek().dueNanos() <= end) {
            Task next = tasks.poll();
            moveTo(next.dueNanos());
            next.task().run();
        }
        moveTo(end);
    }

    void advanceMillis(long millis) {
        advance(Duration.ofMillis(millis));
    }

    int pending() {
        return tasks.size();
    }

    private void moveTo(long nanos) {
        if (nanos > ticker.nanos()) ticker.advance(Duration.ofNanos(nanos - ticker.nanos()));
    }
}
