package io.modelegress.core.ratelimit;

/**
 * One quota as an upstream reported it on a response.
 *
 * @param limit the quota's size, or {@link #UNKNOWN} when the upstream did not say
 * @param remaining what is left now
 * @param observedAtNanos when we read it, on the ticker's monotonic scale
 * @param resetAtNanos when the quota is back to {@code limit} (OpenAI and Anthropic both mean "fully replenished")
 */
public record QuotaReading(long limit, long remaining, long observedAtNanos, long resetAtNanos) {
    public static final long UNKNOWN = -1;

    public QuotaReading {
        if (remaining < 0) throw new IllegalArgumentException(String.format("remaining: %d (expected: >= 0)", remaining));
        if (limit < UNKNOWN) throw new IllegalArgumentException(String.format("limit: %d (expected: >= -1)", limit));
        if (resetAtNanos < observedAtNanos) {
            throw new IllegalArgumentException(
                    String.format("resetAtNanos: %d (expected: >= observedAtNanos %d)", resetAtNanos, observedAtNanos));
        }
    }
}
