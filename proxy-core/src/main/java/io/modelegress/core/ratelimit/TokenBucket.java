package io.modelegress.core.ratelimit;

import io.modelegress.core.time.Ticker;
import java.time.Duration;
import java.util.Objects;

/**
 * A token bucket refilled continuously at a per-minute rate, read through an injected {@link Ticker}.
 *
 * <p>Like Resilience4j's {@code reservePermission()}, it never blocks: {@link #nanosUntilAvailable} says how long
 * the caller must wait, and the caller schedules the continuation. A request may start when the level reaches
 * {@code min(permits, capacity)}; it then takes all its permits, so a request larger than the burst drives the
 * level negative and the next request pays the debt (as in Guava's SmoothRateLimiter). Without that, a request
 * bigger than the capacity could never start.
 *
 * <p>Thread-safe; the methods are short and {@code synchronized}.
 */
public final class TokenBucket {
    /**
     * How much rate a full bucket holds. Small on purpose: the burst decides how bunched the upstream sees our
     * traffic, and 50 ms of rate bounds any one-second window at 1.05 x the rate (+1 when the rate is below 20/s).
     */
    public static final Duration PACING_WINDOW = Duration.ofMillis(50);

    private static final long NANOS_PER_MINUTE = Duration.ofMinutes(1).toNanos();
    private static final long MAX_WAIT_NANOS = Duration.ofDays(365).toNanos();

    private final long capacity;
    private final double permitsPerNano;
    private final Ticker ticker;
    private double level;
    private long refilledAtNanos;

    /** A full bucket of {@code capacity} permits refilling at {@code permitsPerMinute}. */
    public TokenBucket(long capacity, long permitsPerMinute, Ticker ticker) {
        if (capacity < 1) throw new IllegalArgumentException(String.format("capacity: %d (expected: >= 1)", capacity));
        if (permitsPerMinute < 1) {
            throw new IllegalArgumentException(String.format("permitsPerMinute: %d (expected: >= 1)", permitsPerMinute));
        }
        this.capacity = capacity;
        this.permitsPerNano = (double) permitsPerMinute / NANOS_PER_MINUTE;
        this.ticker = Objects.requireNonNull(ticker, "ticker");
        this.level = capacity;
        this.refilledAtNanos = ticker.nanos();
    }

    /** A bucket whose burst is {@link #PACING_WINDOW} worth of rate, and at least one permit. */
    public static TokenBucket paced(long permitsPerMinute, Ticker ticker) {
        long burst = Math.max(1, permitsPerMinute * PACING_WINDOW.toMillis() / Duration.ofMinutes(1).toMillis());
        return new TokenBucket(burst, permitsPerMinute, ticker);
    }

    public long capacity() { return capacity; }

    /** Permits in the bucket now; negative while a debt is being paid back. */
    public synchronized double available() {
        refill();
        return level;
    }

    /** How long until {@code permits} may be taken; 0 when they may be taken now. */
    public synchronized long nanosUntilAvailable(long permits) {
        return nanosUntilAvailable(permits, 0);
    }

    /**
     * How long until {@code permits} may be taken after {@code reservedAhead} permits have been taken by the
     * requests queued in front: the wait a queued request can expect from this bucket alone.
     */
    public synchronized long nanosUntilAvailable(long permits, long reservedAhead) {
        refill();
        double deficit = reservedAhead + threshold(permits) - level;
        if (deficit <= 0) return 0;
        double nanos = Math.ceil(deficit / permitsPerNano);
        return nanos >= MAX_WAIT_NANOS ? MAX_WAIT_NANOS : Math.max(1, (long) nanos);
    }

    /** Takes {@code permits} if they may be taken now. */
    public synchronized boolean tryTake(long permits) {
        requireNonNegative(permits);
        refill();
        if (level < threshold(permits)) return false;
        level -= permits;
        return true;
    }

    /**
     * Corrects the level once the real cost is known: a positive delta gives back an over-estimate, a negative
     * one charges an under-estimate (which may leave a debt). Never fills above the capacity.
     */
    public synchronized void adjust(long deltaPermits) {
        refill();
        level = Math.min(capacity, level + deltaPermits);
    }

    private double threshold(long permits) {
        requireNonNegative(permits);
        return Math.min(permits, capacity);
    }

    private void refill() {
        long now = ticker.nanos();
        long elapsed = now - refilledAtNanos;
        if (elapsed <= 0) return;
        level = Math.min(capacity, level + elapsed * permitsPerNano);
        refilledAtNanos = now;
    }

    private static void requireNonNegative(long permits) {
        if (permits < 0) throw new IllegalArgumentException(String.format("permits: %d (expected: >= 0)", permits));
    }
}
