package io.modelegress.core.config;

import java.time.Duration;
import java.util.List;

/** The {@code retry} block (global, or a route's override merged over it). */
public record RetrySettings(int maxAttempts, List<String> retryOn, boolean retryOnTimeout,
                            Duration backoffBase, Duration backoffMax, Duration maxRetryAfter,
                            double budgetRatio, int budgetMinPerSecond,
                            int attemptsPerUpstream, Duration maxSameUpstreamWait) {
    public RetrySettings {
        retryOn = List.copyOf(retryOn);
    }

    /** With the defaults of {@code attempts_per_upstream} (2) and {@code max_same_upstream_wait} (5s). */
    public RetrySettings(int maxAttempts, List<String> retryOn, boolean retryOnTimeout, Duration backoffBase,
                         Duration backoffMax, Duration maxRetryAfter, double budgetRatio, int budgetMinPerSecond) {
        this(maxAttempts, retryOn, retryOnTimeout, backoffBase, backoffMax, maxRetryAfter, budgetRatio,
                budgetMinPerSecond, 2, Duration.ofSeconds(5));
    }
}
