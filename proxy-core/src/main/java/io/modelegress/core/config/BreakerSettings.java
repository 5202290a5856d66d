package io.modelegress.core.config;

import java.time.Duration;

/**
 * An upstream's {@code breaker}: consecutive failures that eject it, for how long, and the most an ejection grows
 * to ({@code max_cooldown}, null: ten times the cooldown). 0 failures = off.
 */
public record BreakerSettings(int consecutiveFailures, Duration cooldown, Duration maxCooldown) {
    public BreakerSettings(int consecutiveFailures, Duration cooldown) {
        this(consecutiveFailures, cooldown, null);
    }
}
