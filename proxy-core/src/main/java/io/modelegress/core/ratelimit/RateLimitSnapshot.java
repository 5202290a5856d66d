package io.modelegress.core.ratelimit;

import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;

/**
 * What one upstream response said about its rate limits: the quotas it reported and, on a 429, its wait hint.
 *
 * @param retryAtNanos when the upstream asked us to come back ({@code retry-after-ms} / {@code retry-after}), on
 *     the ticker's monotonic scale, or {@link #NO_RETRY_AFTER}
 */
public record RateLimitSnapshot(Map<QuotaKind, QuotaReading> readings, long retryAtNanos) {
    public static final long NO_RETRY_AFTER = Long.MIN_VALUE;
    public static final RateLimitSnapshot EMPTY = new RateLimitSnapshot(Map.of(), NO_RETRY_AFTER);

    public RateLimitSnapshot {
        readings = readings.isEmpty()
                ? Map.of() : Collections.unmodifiableMap(new EnumMap<>(readings));
    }

    public boolean hasRetryAfter() {
        return retryAtNanos != NO_RETRY_AFTER;
    }

    public boolean isEmpty() {
        return readings.isEmpty() && !hasRetryAfter();
    }

    /** The latest reset among the quotas that are used up, or {@link #NO_RETRY_AFTER} when none is. */
    public long exhaustedUntilNanos() {
        long until = NO_RETRY_AFTER;
        for (QuotaReading r : readings.values()) {
            if (r.remaining() == 0) until = Math.max(until, r.resetAtNanos());
        }
        return until;
    }
}
