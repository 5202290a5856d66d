package io.modelegress.core.time;

/**
 * Monotonic time source, injected everywhere a policy needs "now" so tests can drive time by hand.
 * Wall-clock time (for HTTP dates) is read separately through {@link #wallMillis()}.
 */
public interface Ticker {
    /** Monotonic nanoseconds; only differences are meaningful. */
    long nanos();

    /** Wall-clock milliseconds since the epoch (for Retry-After dates and reset timestamps). */
    long wallMillis();

    Ticker SYSTEM = new Ticker() {
        @Override public long nanos() { return System.nanoTime(); }
        @Override public long wallMillis() { return System.currentTimeMillis(); }
    };
}
