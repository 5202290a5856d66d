package io.modelegress.core.route;

import io.modelegress.core.time.Ticker;
import java.time.Duration;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Which upstream created each stateful response ({@code resp_…} of the Responses API), so that its follow-ups
 * ({@code previous_response_id}, {@code GET/DELETE /responses/{id}}, {@code cancel}, {@code input_items}) go back to
 * it: another account has never seen it. Bounded: at most {@code maxEntries} ids, the oldest dropped first, each
 * forgotten {@code ttl} after it was learned. An id not here (never seen, expired, the process restarted) routes as
 * any request does. Shared by every event loop: one short lock per call, taken only by Responses API requests.
 */
public final class ResponseAffinity {
    private final int maxEntries;
    private final long ttlNanos;
    private final Ticker ticker;
    /** Insertion order is expiry order (one ttl for all): the eldest entry is the first to expire and to be evicted. */
    private final LinkedHashMap<String, Entry> entries = new LinkedHashMap<>();

    private record Entry(String upstream, long expiresAt) {}

    /** {@code maxEntries} 0 (or a zero {@code ttl}): remembers nothing. */
    public ResponseAffinity(int maxEntries, Duration ttl, Ticker ticker) {
        if (maxEntries < 0) throw new IllegalArgumentException("maxEntries: " + maxEntries + " (expected: >= 0)");
        if (ttl.isNegative()) throw new IllegalArgumentException("ttl: " + ttl + " (expected: >= 0)");
        this.maxEntries = ttl.isZero() ? 0 : maxEntries;
        this.ttlNanos = ttl.toNanos();
        this.ticker = ticker;
    }

    public boolean enabled() { return maxEntries > 0; }

    /** Response {@code id} was created through {@code upstream} (learned again: its ttl starts over). */
    public void remember(String id, String upstream) {
        if (maxEntries == 0 || id == null || id.isEmpty()) return;
        long now = ticker.nanos();
        synchronized (entries) {
            expire(now);
            entries.remove(id); // re-inserted at the young end
            entries.put(id, new Entry(upstream, now + ttlNanos));
            while (entries.size() > maxEntries) {
                Iterator<String> eldest = entries.keySet().iterator();
                eldest.next();
                eldest.remove();
            }
        }
    }

    /** The upstream that created response {@code id}, or null when it is not known (or no longer). */
    public String upstreamOf(String id) {
        if (maxEntries == 0 || id == null) return null;
        long now = ticker.nanos();
        synchronized (entries) {
            Entry e = entries.get(id);
            if (e == null) return null;
            if (now - e.expiresAt >= 0) {
                entries.remove(id);
                return null;
            }
            return e.upstream;
        }
    }

    /** The response was deleted upstream: nothing will follow it. */
    public void forget(String id) {
        if (maxEntries == 0 || id == null) return;
        synchronized (entries) {
            entries.remove(id);
        }
    }

    /** True when no id is remembered: a request cannot be a follow-up of one, so its body need not be read. */
    public boolean isEmpty() {
        if (maxEntries == 0) return true;
        synchronized (entries) {
            return entries.isEmpty();
        }
    }

    /** Ids remembered now, expired ones not yet dropped included (for the gauge). */
    public int size() {
        synchronized (entries) {
            return entries.size();
        }
    }

    private void expire(long now) {
        Iterator<Map.Entry<String, Entry>> it = entries.entrySet().iterator();
        while (it.hasNext() && now - it.next().getValue().expiresAt >= 0) it.remove();
    }
}
