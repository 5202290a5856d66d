package io.modelegress.core.config;

import java.time.Duration;

/**
 * An upstream's {@code limits}: 0 turns a limit off. {@code scope} says whether the budgets are this replica's own
 * ({@code local}) or the fleet's, shared through {@code cluster.redis} ({@code shared}).
 */
public record LimitSettings(int maxConcurrent, int requestsPerMinute, long tokensPerMinute,
                            int maxQueue, Duration maxQueueWait, Scope scope) {
    public enum Scope { LOCAL, SHARED }

    public LimitSettings(int maxConcurrent, int requestsPerMinute, long tokensPerMinute, int maxQueue, Duration maxQueueWait) {
        this(maxConcurrent, requestsPerMinute, tokensPerMinute, maxQueue, maxQueueWait, Scope.LOCAL);
    }

    public boolean isUnlimited() {
        return maxConcurrent == 0 && requestsPerMinute == 0 && tokensPerMinute == 0;
    }

    public boolean shared() { return scope == Scope.SHARED; }
}
