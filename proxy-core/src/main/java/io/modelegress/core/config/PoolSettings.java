package io.modelegress.core.config;

import java.time.Duration;

/** An upstream's connection pool: idle connections kept, how long idle, how long at most. */
public record PoolSettings(int maxIdle, Duration idleTimeout, Duration maxLifetime) {
}
