package io.modelegress.core.time;

import java.time.Duration;

/** Durations as operators write them in config: 250ms, 5s, 2m. */
public final class Durations {
    private Durations() {}

    public static String format(Duration d) {
        long ms = d.toMillis();
        if (ms % 60_000 == 0 && ms >= 60_000) return ms / 60_000 + "m";
        if (ms % 1000 == 0 && ms > 0) return ms / 1000 + "s";
        return ms + "ms";
    }

    public static String formatNanos(long nanos) { return format(Duration.ofNanos(nanos)); }

    /** Parses an agent-supplied duration: "30s", "500ms", "2m", or plain (fractional) seconds; null when invalid or not positive. */
    public static Duration parseLenient(String text) {
        if (text == null) return null;
        String s = text.trim().toLowerCase(java.util.Locale.ROOT);
        try {
            double v;
            long unitNanos;
            if (s.endsWith("ms")) { v = Double.parseDouble(s.substring(0, s.length() - 2)); unitNanos = 1_000_000L; }
            else if (s.endsWith("s")) { v = Double.parseDouble(s.substring(0, s.length() - 1)); unitNanos = 1_000_000_000L; }
            else if (s.endsWith("m")) { v = Double.parseDouble(s.substring(0, s.length() - 1)); unitNanos = 60_000_000_000L; }
            else { v = Double.parseDouble(s); unitNanos = 1_000_000_000L; }
            if (!(v > 0) || Double.isInfinite(v)) return null;
            return Duration.ofNanos((long) Math.min(Long.MAX_VALUE / 2.0, v * unitNanos));
        } catch (NumberFormatException e) {
            return null;
        }
    }
}
