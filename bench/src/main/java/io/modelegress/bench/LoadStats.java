package io.modelegress.bench;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What the mock saw, for the rate-shaping measurement: requests in flight (and the most ever), requests started and
 * completed per wall-clock second, streams the client abandoned. The event loops only touch atomics; a separate
 * thread rolls the second over and writes the file, so no event loop ever does file I/O.
 */
final class LoadStats {
    private final AtomicInteger inFlight = new AtomicInteger();
    private final AtomicInteger maxInFlight = new AtomicInteger();
    private final AtomicInteger maxInFlightThisSecond = new AtomicInteger();
    private final AtomicInteger startedThisSecond = new AtomicInteger();
    private final AtomicInteger completedThisSecond = new AtomicInteger();
    private final AtomicLong started = new AtomicLong();
    private final AtomicLong completed = new AtomicLong();
    private final AtomicLong aborted = new AtomicLong();

    void requestStarted() {
        started.incrementAndGet();
        startedThisSecond.incrementAndGet();
        int now = inFlight.incrementAndGet();
        raise(maxInFlight, now);
        raise(maxInFlightThisSecond, now);
    }

    void requestCompleted() {
        inFlight.decrementAndGet();
        completed.incrementAndGet();
        completedThisSecond.incrementAndGet();
    }

    /** The client went away before the response ended. */
    void requestAborted() {
        inFlight.decrementAndGet();
        aborted.incrementAndGet();
    }

    int inFlight() { return inFlight.get(); }

    int maxInFlight() { return maxInFlight.get(); }

    long started() { return started.get(); }

    /** One line per second: {@code epoch_second started completed max_in_flight}; the counters restart. */
    String rollSecond(long epochSecond) {
        int s = startedThisSecond.getAndSet(0);
        int c = completedThisSecond.getAndSet(0);
        int m = maxInFlightThisSecond.getAndSet(inFlight.get());
        return epochSecond + " " + s + " " + c + " " + m;
    }

    String summary() {
        return "mock-upstream summary: started=" + started.get() + " completed=" + completed.get() + " aborted=" + aborted.get()
                + " max_in_flight=" + maxInFlight.get();
    }

    /** Starts the once-a-second roll-over on its own daemon thread, appending each line to {@code file} (or nowhere). */
    Thread startSecondTicker(Path file, PrintStream echo) {
        Thread t = new Thread(() -> {
            try (Writer w = file == null ? Writer.nullWriter() : Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
                w.write("# epoch_second started completed max_in_flight\n");
                w.flush();
                while (!Thread.currentThread().isInterrupted()) {
                    long now = System.currentTimeMillis();
                    Thread.sleep(1000 - now % 1000); // wake on the second boundary
                    String line = rollSecond(now / 1000);
                    w.write(line);
                    w.write('\n');
                    w.flush();
                    if (echo != null) echo.println(line);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }, "mock-stats");
        t.setDaemon(true);
        t.start();
        return t;
    }

    private static void raise(AtomicInteger max, int value) {
        int m;
        while (value > (m = max.get()) && !max.compareAndSet(m, value)) {
            // retry: another loop raised it meanwhile
        }
    }
}
