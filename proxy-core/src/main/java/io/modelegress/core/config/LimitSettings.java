package io.modelegress.core.config;

import java.time.Duration;

/** An upstream's {@code limits}: 0 turns a limit off. */
public record LimitSettings(int maxConcurrent, int requestsPerMinute, long tokensPerMinute,
                            int maxQueue, Duration maxQueueWait) {
    public boolean isUnlimited() {
        return maxConcurrent == 0 && requestsPerMinute == 0 && tokensPerMinute == 0;
    }
}
