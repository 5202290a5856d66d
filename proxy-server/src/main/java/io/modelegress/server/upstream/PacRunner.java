package io.modelegress.server.upstream;

import io.modelegress.core.config.ProxySettings;
import io.modelegress.core.config.UpstreamSettings;
import io.modelegress.core.error.EgressException;
import io.modelegress.core.error.ErrorCode;
import io.modelegress.core.proxy.PacAnswer;
import io.modelegress.core.proxy.ProxyDecision;
import io.modelegress.core.proxy.ProxyUrl;
import io.modelegress.core.proxy.pac.PacEngine;
import io.modelegress.core.proxy.pac.PacException;
import io.modelegress.core.proxy.pac.PacHost;
import io.modelegress.core.proxy.pac.Wpad;
import io.modelegress.server.metrics.EgressMetrics;
import java.net.InetAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Runs {@code proxy.pac} for one config generation on its own thread: fetches the file (directly, never through a
 * proxy), re-fetches it every {@code proxy.pac_refresh} (a failed fetch keeps the last good file), and evaluates it
 * per target. The engine and its cache are touched only from that thread; answers already known are served from a
 * snapshot without a thread hop. Fetches and DNS inside the script block, which is why none of this runs on an
 * event loop.
 */
public final class PacRunner implements AutoCloseable {
    private static final Duration FETCH_TIMEOUT = Duration.ofSeconds(10);
    private static final long ALLOCATION_LIMIT = 64L << 20;
    private static final int MAX_PAC_BYTES = 4 << 20;

    private final String location;
    private final List<String> candidates;
    private final PacEngine engine;
    private final ScheduledExecutorService thread;
    private final EgressMetrics metrics;
    private final Map<String, ProxyDecision> known = new ConcurrentHashMap<>();
    private volatile String loadedFrom;
    private volatile int knownGeneration = -1;
    private volatile PacEngine.Status status;

    public PacRunner(ProxySettings settings, PacHost host, EgressMetrics metrics) {
        this(settings, host, metrics, settings.pac().equals("wpad") ? wpadCandidates() : List.of(settings.pac()));
    }

    /** {@code candidates}: the URLs to fetch, first that answers wins (one for a configured URL, several for WPAD). */
    PacRunner(ProxySettings settings, PacHost host, EgressMetrics metrics, List<String> candidates) {
        this.location = settings.pac();
        this.candidates = List.copyOf(candidates);
        this.engine = new PacEngine(host, settings.pacTimeout(), ALLOCATION_LIMIT, 4096);
        this.status = engine.status();
        this.metrics = metrics;
        this.thread = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "egress-pac");
            t.setDaemon(true);
            return t;
        });
        thread.execute(this::fetch);
        long every = settings.pacRefresh().toMillis();
        thread.scheduleWithFixedDelay(this::fetch, every, every, TimeUnit.MILLISECONDS);
    }

    /**
     * The PAC's decision for an upstream; completes on the PAC thread (callers continue on their event loop).
     * Fails with {@code proxy_pac_failed} when no file is loaded or the call fails.
     */
    public CompletableFuture<ProxyDecision> decide(String scheme, String host, int port) {
        ProxyDecision d = known.get(key(scheme, host, port));
        if (d != null) return CompletableFuture.completedFuture(d);
        CompletableFuture<ProxyDecision> out = new CompletableFuture<>();
        try {
            thread.execute(() -> {
                try {
                    out.complete(evaluate(scheme, host, port));
                } catch (Throwable t) {
                    out.completeExceptionally(t);
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException e) {
            out.completeExceptionally(new EgressException(ErrorCode.PROXY_PAC_FAILED, "PAC runner stopped (config reloaded)"));
        }
        return out;
    }

    public CompletableFuture<ProxyDecision> decide(UpstreamSettings u) {
        return decide(u.url().getScheme(), u.host(), u.port());
    }

    /** For doctor and explain-proxy: where the file came from and the last fetch failure (a snapshot: never waits). */
    public PacEngine.Status status() {
        return status;
    }

    /** Fetch now (tests, reload); completes when the fetch is done. */
    public CompletableFuture<Void> refreshNow() {
        return CompletableFuture.runAsync(this::fetch, thread);
    }

    private ProxyDecision evaluate(String scheme, String host, int port) {
        try {
            PacAnswer a = engine.answer(scheme, host, port);
            ProxyDecision d = ProxyDecision.fromPac(a, shown(loadedFrom));
            int generation = engine.status().generation();
            if (generation != knownGeneration) {
                known.clear();
                knownGeneration = generation;
            }
            known.put(key(scheme, host, port), d);
            return d;
        } catch (PacException e) {
            throw new EgressException(ErrorCode.PROXY_PAC_FAILED, "proxy.pac " + shown(location) + ": " + e.getMessage()
                    + " (target " + host + ":" + port + ")");
        }
    }

    private void fetch() {
        try {
            fetchAll();
        } finally {
            status = engine.status();
        }
    }

    private void fetchAll() {
        List<String> errors = new ArrayList<>();
        for (String url : candidates) {
            String text;
            try {
                text = read(url);
            } catch (Exception e) {
                errors.add(shown(url) + ": " + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()));
                continue;
            }
            try {
                boolean changed = engine.load(text, shown(url), Instant.now());
                if (changed) known.clear();
                loadedFrom = url;
                metrics.pacFetch(changed ? "ok" : "unchanged");
            } catch (PacException e) {
                metrics.pacFetch("failed");
            }
            return;
        }
        if (candidates.isEmpty()) errors.add("WPAD found no domain to search (this host's name has none and resolv.conf lists no search domain)");
        engine.failed("fetch of " + (location.equals("wpad") ? "WPAD " : "") + "PAC file failed: " + String.join("; ", errors)
                + (engine.status().loaded() ? " (the last good file stays in force)" : ""), Instant.now());
        metrics.pacFetch("failed");
    }

    /** Blocking, on the PAC thread. HttpURLConnection rather than HttpClient: no selector thread outlives a generation. */
    private static String read(String url) throws Exception {
        URI u = URI.create(url);
        if ("file".equalsIgnoreCase(u.getScheme())) return Files.readString(Path.of(u), StandardCharsets.UTF_8);
        var c = (java.net.HttpURLConnection) u.toURL().openConnection(java.net.Proxy.NO_PROXY); // the PAC is fetched direct
        c.setConnectTimeout((int) FETCH_TIMEOUT.toMillis());
        c.setReadTimeout((int) FETCH_TIMEOUT.toMillis());
        c.setRequestProperty("Accept", "application/x-ns-proxy-autoconfig, */*");
        c.setUseCaches(false);
        try {
            int status = c.getResponseCode();
            if (status != 200) throw new java.io.IOException("HTTP " + status);
            try (var in = c.getInputStream()) {
                byte[] body = in.readNBytes(MAX_PAC_BYTES + 1);
                if (body.length > MAX_PAC_BYTES) throw new java.io.IOException("larger than " + (MAX_PAC_BYTES >> 20) + "MiB");
                return new String(body, StandardCharsets.UTF_8);
            }
        } finally {
            c.disconnect();
        }
    }

    private static String shown(String url) {
        return url == null ? "(none)" : ProxyUrl.redactCredentials(url);
    }

    private static String key(String scheme, String host, int port) {
        return scheme + "://" + host + ":" + port;
    }

    /** DNS-based WPAD: wpad.<domain> for this host's domain and parents, then resolv.conf's search domains. */
    static List<String> wpadCandidates() {
        String fqdn = null;
        try {
            fqdn = InetAddress.getLocalHost().getCanonicalHostName();
        } catch (Exception e) {
            // no name: only the search domains
        }
        List<String> search = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(Path.of("/etc/resolv.conf"))) {
                String l = line.strip();
                if (l.startsWith("search ") || l.startsWith("domain ")) search.addAll(List.of(l.substring(7).strip().split("\\s+")));
            }
        } catch (Exception e) {
            // no resolv.conf
        }
        return Wpad.candidates(fqdn, search);
    }

    @Override
    public void close() {
        thread.shutdownNow();
    }
}
