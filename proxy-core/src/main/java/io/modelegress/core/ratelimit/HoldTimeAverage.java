package io.modelegress.core.ratelimit;

/**
 * How long permits are held, as an exponentially weighted average: with it the limiter turns "n releases
 * needed" into a wait for requests queued behind {@code max_concurrent}. Model calls vary from 200 ms to minutes,
 * so this is a rough guide; with no history yet it says 0 (we do not reject on a guess).
 *
 * <p>Not thread-safe: guarded by the owning limiter's lock.
 */
final class HoldTimeAverage {
    private static final double WEIGHT = 0.2;

    private double meanNanos;
    private boolean seeded;

    void record(long heldNanos) {
        long held = Math.max(0, heldNanos);
        meanNanos = seeded ? meanNanos + WEIGHT * (held - meanNanos) : held;
        seeded = true;
    }

    /** The expected wait for {@code releases} permits to come back when {@code slots} are held at once. */
    long nanosFor(long releases, int slots) {
        if (!seeded || releases <= 0) return 0;
        return (long) Math.ceil(meanNanos * releases / slots);
    }
}
