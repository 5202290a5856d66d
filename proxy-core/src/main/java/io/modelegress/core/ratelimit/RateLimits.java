package io.modelegress.core.ratelimit;

import java.time.Duration;
import java.util.Objects;

/**
 * One upstream's {@code limits} block, shared by every route that uses the upstream.
 *
 * @param maxConcurrent requests in flight at once; 0 = off
 * @param requestsPerMinute requests started per minute, paced; 0 = off
 * @param tokensPerMinute estimated tokens (input + output) started per minute, corrected by real usage; 0 = off
 * @param maxQueue requests waiting for a start at once; 0 = no queue: what cannot start now is rejected
 * @param maxQueueWait the longest a request may wait for its start; 0 = no queue
 */
public record RateLimits(int maxConcurrent, long requestsPerMinute, long tokensPerMinute, int maxQueue,
                         Duration maxQueueWait) {
    public RateLimits {
        Objects.requireNonNull(maxQueueWait, "maxQueueWait");
        requireNonNegative("max_concurrent", maxConcurrent);
        requireNonNegative("requests_per_minute", requestsPerMinute);
        requireNonNegative("tokens_per_minute", tokensPerMinute);
        requireNonNegative("max_queue", maxQueue);
        if (maxQueueWait.isNegative()) {
            throw new IllegalArgumentException(String.format("max_queue_wait: %s (expected: >= 0)", maxQueueWait));
        }
    }

    /** The documented defaults: 64 in flight, no rate limits, up to 1000 waiting for at most 30 s. */
    public static RateLimits ofDefaults() {
        return new RateLimits(64, 0, 0, 1000, Duration.ofSeconds(30));
    }

    /** No limit at all: every request starts at once. */
    public static RateLimits unlimited() {
        return new RateLimits(0, 0, 0, 0, Duration.ZERO);
    }

    /** Whether a request that cannot start at once may wait. */
    public boolean queueing() {
        return maxQueue > 0 && !maxQueueWait.isZero();
    }

    private static void requireNonNegative(String key, long value) {
        if (value < 0) throw new IllegalArgumentException(String.format("%s: %d (expected: >= 0)", key, value));
    }
}
