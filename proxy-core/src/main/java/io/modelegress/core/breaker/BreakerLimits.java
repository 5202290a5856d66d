package io.modelegress.core.breaker;

import java.time.Duration;
import java.util.Objects;

/**
 * The checked numbers of one {@link CircuitBreaker} ({@code upstreams.<name>.breaker}): how many failures in a row
 * eject (0: the breaker is off), the first cooldown, and the longest one it may grow to, in nanoseconds. Every
 * problem is an {@link IllegalArgumentException} naming the key and what was expected.
 */
record BreakerLimits(int failureThreshold, long cooldownNanos, long maxCooldownNanos) {
    private static final BreakerLimits OFF = new BreakerLimits(0, 0, 0);

    /**
     * {@code consecutive_failures >= 0} (0 = off), {@code cooldown > 0} when on, {@code max_cooldown >= cooldown}
     * (null: {@value CircuitBreaker#MAX_COOLDOWN_MULTIPLIER}× the cooldown).
     */
    static BreakerLimits of(int consecutiveFailures, Duration cooldown, Duration maxCooldown) {
        if (consecutiveFailures < 0) {
            throw new IllegalArgumentException(
                    "breaker.consecutive_failures: " + consecutiveFailures + " (expected: >= 0, 0 = off)");
        }
        if (consecutiveFailures == 0) return OFF;
        Objects.requireNonNull(cooldown, "breaker.cooldown");
        if (cooldown.isNegative() || cooldown.isZero()) {
            throw new IllegalArgumentException("breaker.cooldown: " + cooldown + " (expected: > 0)");
        }
        // Bounded so that MAX_COOLDOWN_MULTIPLIER times it still fits a long in nanos.
        if (cooldown.compareTo(Duration.ofDays(365)) > 0) {
            throw new IllegalArgumentException("breaker.cooldown: " + cooldown + " (expected: <= 365d)");
        }
        long max = cooldown.toNanos() * CircuitBreaker.MAX_COOLDOWN_MULTIPLIER;
        if (maxCooldown != null) {
            if (maxCooldown.compareTo(cooldown) < 0) {
                throw new IllegalArgumentException("breaker.max_cooldown: " + maxCooldown + " (expected: >= breaker.cooldown " + cooldown + ")");
            }
            max = Math.min(max, maxCooldown.toNanos());
        }
        return new BreakerLimits(consecutiveFailures, cooldown.toNanos(), max);
    }
}
