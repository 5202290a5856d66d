package io.modelegress.core.config;

import java.time.Duration;
import java.util.List;

/** The {@code retry} block (global, or a route's override merged over it). */
public record RetrySettings(int maxAttempts, List<String> retryOn, boolean retryOnTimeout,
                            Duration backoffBase, Duration backoffMax, Duration maxRetryAfter,
                            double budgetRatio, int budgetMinPerSecond) {
    public RetrySettings {
        retryOn = List.copyOf(retryOn);
    }
}
