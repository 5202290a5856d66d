package io.modelegress.server.doctor;

import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Doctor runs for the admin port, bounded: one at a time on one thread, and a caller arriving while a run of the same
 * scope (a route, or all) is under way shares that run's report instead of starting another. Each run blocks on its
 * steps for up to their limits, so unbounded, a burst of callers was a burst of threads. Distinct scopes queue
 * behind each other; there are at most as many as routes plus one, because the caller checks the route exists.
 */
public final class DoctorRuns implements AutoCloseable {
    private static final String ALL = "";

    private final ThreadPoolExecutor thread = new ThreadPoolExecutor(1, 1, 30, TimeUnit.SECONDS,
            new LinkedBlockingQueue<>(), r -> {
                Thread t = new Thread(r, "egress-doctor");
                t.setDaemon(true);
                return t;
            });
    private final Map<String, CompletableFuture<Object>> running = new ConcurrentHashMap<>();
    private final Consumer<String> calls;

    /** {@code calls} hears {@code "started"} or {@code "shared"} per call (a metric). */
    public DoctorRuns(Consumer<String> calls) {
        this.calls = calls;
        thread.allowCoreThreadTimeOut(true); // no idle thread between runs
    }

    /** The report of a run for {@code route} (null: all routes): the one under way, or a new one of {@code check}. */
    public CompletableFuture<Object> run(String route, Supplier<Object> check) {
        String scope = route == null ? ALL : route;
        CompletableFuture<Object> mine = new CompletableFuture<>();
        CompletableFuture<Object> shared = running.putIfAbsent(scope, mine);
        if (shared != null) {
            calls.accept("shared");
            return shared;
        }
        calls.accept("started");
        try {
            thread.execute(() -> {
                Object report = null;
                Throwable failed = null;
                try {
                    report = check.get();
                } catch (Throwable t) {
                    failed = t;
                }
                // Out of the map before anyone hears the result: a caller arriving once the report is out starts a
                // run of its own, never shares this finished one (its steps are already stale).
                running.remove(scope, mine);
                if (failed != null) mine.completeExceptionally(failed);
                else mine.complete(report);
            });
        } catch (RejectedExecutionException closed) {
            running.remove(scope, mine);
            mine.completeExceptionally(new IllegalStateException("doctor is not available: the sidecar is stopping"));
        }
        return mine;
    }

    @Override
    public void close() { thread.shutdownNow(); }
}
