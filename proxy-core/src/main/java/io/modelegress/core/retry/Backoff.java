package io.modelegress.core.retry;

import java.time.Duration;
import java.util.Objects;
import java.util.function.DoubleSupplier;

/**
 * Exponential back-off with full jitter: retry {@code n} waits a uniformly random time in
 * {@code [0, min(max, base * 2^(n-1)))}.
 *
 * <p>Full jitter rather than Envoy's or the OpenAI SDK's partial jitter: the sidecars of many agents that failed
 * together should not come back together, and the wait is short next to a model's response time anyway.
 * Pure: the random source is passed in, so tests pin it.
 */
public final class Backoff {
    private final long baseNanos;
    private final long maxNanos;

    private Backoff(long baseNanos, long maxNanos) {
        this.baseNanos = baseNanos;
        this.maxNanos = maxNanos;
    }

    /** {@code retry.backoff}: base > 0 and max >= base. */
    public static Backoff of(Duration base, Duration max) {
        Objects.requireNonNull(base, "retry.backoff.base");
        Objects.requireNonNull(max, "retry.backoff.max");
        if (base.isNegative() || base.isZero()) {
            throw new IllegalArgumentException("retry.backoff.base: " + base + " (expected: > 0)");
        }
        if (max.compareTo(base) < 0) {
            throw new IllegalArgumentException(
                    "retry.backoff.max: " + max + " (expected: >= retry.backoff.base " + base + ")");
        }
        return new Backoff(saturatedNanos(base), saturatedNanos(max));
    }

    public Duration base() { return Duration.ofNanos(baseNanos); }

    public Duration max() { return Duration.ofNanos(maxNanos); }

    /** The upper bound of the jittered wait before retry {@code retryNumber} (1 = the first retry). */
    public long ceilingNanos(int retryNumber) {
        if (retryNumber < 1) {
            throw new IllegalArgumentException("retryNumber: " + retryNumber + " (expected: >= 1)");
        }
        int doublings = retryNumber - 1;
        // Shifting past the cap would overflow; anything that large is the cap anyway.
        if (doublings >= Long.numberOfLeadingZeros(baseNanos) - 1) return maxNanos;
        return Math.min(maxNanos, baseNanos << doublings);
    }

    /**
     * The wait before retry {@code retryNumber}.
     *
     * @param random a uniform draw in [0, 1), e.g. {@code ThreadLocalRandom.current()::nextDouble}; values
     *               outside are clamped so a bad source cannot produce a negative or unbounded wait
     */
    public long delayNanos(int retryNumber, DoubleSupplier random) {
        double r = Math.min(1.0, Math.max(0.0, random.getAsDouble()));
        return (long) (ceilingNanos(retryNumber) * r);
    }

    public Duration delay(int retryNumber, DoubleSupplier random) {
        return Duration.ofNanos(delayNanos(retryNumber, random));
    }

    private static long saturatedNanos(Duration d) {
        try {
            return d.toNanos();
        } catch (ArithmeticException tooLong) {
            return Long.MAX_VALUE;
        }
    }

    @Override
    public String toString() {
        return "Backoff{base=" + base() + ", max=" + max() + ", jitter=full}";
    }
}
