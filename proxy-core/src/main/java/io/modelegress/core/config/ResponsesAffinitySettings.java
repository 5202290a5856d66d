package io.modelegress.core.config;

import java.time.Duration;

/**
 * {@code server.responses_affinity}: how many stateful response ids ({@code resp_…}) the sidecar remembers the
 * upstream of, and for how long, so that their follow-ups stay on it ({@code maxEntries} 0: off).
 */
public record ResponsesAffinitySettings(int maxEntries, Duration ttl) {
    public static final ResponsesAffinitySettings DEFAULTS = new ResponsesAffinitySettings(20_000, Duration.ofHours(24));
    static final long MAX_ENTRIES = 1_000_000;

    public boolean enabled() { return maxEntries > 0 && !ttl.isZero(); }

    /** Parses the block, each problem naming its key. */
    static ResponsesAffinitySettings read(Section s) {
        long max = s.integer("max_entries", 0);
        if (max > MAX_ENTRIES) s.problem("max_entries", max + " (expected: 0 for off, or at most " + MAX_ENTRIES + ")");
        Duration ttl = s.duration("ttl");
        if (max > 0 && ttl.isZero()) s.problem("ttl", "0s (expected: a duration > 0, like 24h; max_entries: 0 turns it off)");
        return new ResponsesAffinitySettings((int) Math.min(max, MAX_ENTRIES), ttl);
    }
}
