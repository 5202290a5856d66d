package io.modelegress.server.testing;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Deque;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** A sidecar started as its own process ({@code java ... Main}): what the tests read from its output. */
public final class ChildSidecar {
    private ChildSidecar() {}

    private static final Map<Long, Deque<String>> OUTPUT = new ConcurrentHashMap<>();

    /** The last 200 lines the child wrote (read by {@link #listeningLine}), for a failure's message. */
    public static String output(Process p) {
        Deque<String> tail = OUTPUT.get(p.pid());
        return tail == null ? "(no output read)" : String.join("\n", tail);
    }

    /**
     * The process's "listening on" log line, waited for up at most {@code within}; its output is read on after
     * that, so the child never blocks on a full pipe. Fails if the process exits first.
     */
    public static String listeningLine(Process p, Duration within) throws Exception {
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        CompletableFuture<String> listening = new CompletableFuture<>();
        // A thread of its own, not the common pool: on 2 cores that pool has one worker, which another child's
        // drain may still hold, and an undrained child blocks on its full pipe (its reload with it).
        Thread reader = new Thread(() -> {
            try {
                for (String l = out.readLine(); l != null; l = out.readLine()) {
                    Deque<String> tail = OUTPUT.computeIfAbsent(p.pid(), k -> new ConcurrentLinkedDeque<>());
                    tail.addLast(l);
                    if (tail.size() > 200) tail.pollFirst();
                    if (!listening.isDone() && l.contains("listening on")) listening.complete(l);
                }
                listening.completeExceptionally(new IllegalStateException("exited before listening"));
            } catch (Exception e) {
                listening.completeExceptionally(e); // no-op once the line was found: the child was stopped
            }
        }, "child-sidecar-output-" + p.pid());
        reader.setDaemon(true);
        reader.start();
        return listening.get(within.toMillis(), TimeUnit.MILLISECONDS);
    }
}
