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
}
