package io.modelegress.core.proxy.pac;

import io.modelegress.core.proxy.PacAnswer;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * The PAC file in force and its answers, cached per target ({@code scheme://host:port}) until the file changes.
 * A file that fails to fetch or compile keeps the last good one in force; the failure is kept for doctor and
 * {@code /debug/proxy}. Not thread-safe: the server drives it from its one PAC thread.
 */
public final class PacEngine {
    /** What doctor reports: where the file came from, when it loaded, and the last failure (null if none since). */
    public record Status(String location, Instant loadedAt, String lastError, Instant lastErrorAt, int generation) {
        public boolean loaded() { return loadedAt != null; }
    }

    private final PacHost host;
    private final Duration callLimit;
    private final long allocationLimit;
    private final int cacheSize;
    private final Map<String, PacAnswer> cache;
    private PacScript script;
    private String source;
    private String location;
    private Instant loadedAt;
    private String lastError;
    private Instant lastErrorAt;
    private int generation;

    public PacEngine(PacHost host, Duration callLimit, long allocationLimit, int cacheSize) {
        this.host = host;
        this.callLimit = callLimit;
        this.allocationLimit = allocationLimit;
        this.cacheSize = cacheSize;
        this.cache = new LinkedHashMap<>(64, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, PacAnswer> eldest) {
                return size() > PacEngine.this.cacheSize;
            }
        };
    }

    /**
     * A freshly fetched file: compiled and put in force when it differs from the one in force.
     * @return true when a new file is now in force
     * @throws PacException when it does not compile (the previous file stays in force)
     */
    public boolean load(String text, String from, Instant now) throws PacException {
        if (script != null && Objects.equals(text, source)) {
            lastError = null;
            return false;
        }
        PacScript compiled;
        try {
            compiled = PacScript.compile(text, from, host, callLimit, allocationLimit);
        } catch (PacException e) {
            failed(e.getMessage(), now);
            throw e;
        }
        script = compiled;
        source = text;
        location = from;
        loadedAt = now;
        lastError = null;
        lastErrorAt = null;
        generation++;
        cache.clear();
        return true;
    }

    /** A fetch or compile failed: the last good file stays in force; the failure is reported. */
    public void failed(String why, Instant now) {
        lastError = why;
        lastErrorAt = now;
    }

    /** Whether an answer for this target is cached (explain-proxy says so). */
    public boolean cached(String scheme, String targetHost, int port) {
        return cache.containsKey(key(scheme, targetHost, port));
    }

    /**
     * The PAC's answer for a target; the URL passed to FindProxyForURL is {@code scheme://host:port/}, never a path
     * (as browsers do for https: a path may hold secrets, and the sidecar's own routing decides paths).
     */
    public PacAnswer answer(String scheme, String targetHost, int port) throws PacException {
        if (script == null) {
            throw new PacException("no PAC file loaded" + (lastError == null ? "" : ": " + lastError));
        }
        String key = key(scheme, targetHost, port);
        PacAnswer a = cache.get(key);
        if (a != null) return a;
        String url = key + "/";
        a = PacAnswer.parse(script.findProxyForUrl(url, targetHost));
        cache.put(key, a);
        return a;
    }

    public Status status() {
        return new Status(location, loadedAt, lastError, lastErrorAt, generation);
    }

    private static String key(String scheme, String host, int port) {
        boolean v6 = host.indexOf(':') >= 0 && !host.startsWith("[");
        return scheme + "://" + (v6 ? "[" + host + "]" : host) + ":" + port;
    }
}
