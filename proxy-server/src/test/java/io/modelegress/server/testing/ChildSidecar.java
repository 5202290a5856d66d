package io.modelegress.server.testing;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** A sidecar started as its own process ({@code java ... Main}): what the tests read from its output. */
public final class ChildSidecar {
    private ChildSidecar() {}

    /**
     * The process's "listening on" log line, waited for up at most {@code within}; its output is read on after
     * that, so the child never blocks on a full pipe. Fails if the process exits first.
     */
    public static String listeningLine(Process p, Duration within) throws Exception {
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        String line = CompletableFuture.supplyAsync(() -> {
            try {
                for (String l = out.readLine(); l != null; l = out.readLine()) if (l.contains("listening on")) return l;
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
            throw new IllegalStateException("exited before listening");
        }).get(within.toMillis(), TimeUnit.MILLISECONDS);
        CompletableFuture.runAsync(() -> {
            try {
                while (out.readLine() != null) { }
            } catch (Exception ignored) {
                // The child was stopped.
            }
        });
        return line;
    }
}
