package io.modelegress.core.config;

import java.time.Duration;

/** An upstream's {@code breaker}: consecutive failures that eject it, and for how long. 0 failures = off. */
public record BreakerSettings(int consecutiveFailures, Duration cooldown) {
}
