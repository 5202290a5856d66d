package io.modelegress.core.ratelimit;

import io.modelegress.core.time.Ticker;

/**
 * When the next start may happen as far as rates go: our own request and token buckets, and what the upstream
 * told us (429 cooldowns, remaining quotas). Concurrency is the limiter's business, not this one's.
 *
 * <p>Not thread-safe: guarded by the owning limiter's lock.
 */
final class StartPacer {
    private final RateLimits limits;
    private final TokenBucket requestBucket;
    private final TokenBucket tokenBucket;
    private final UpstreamQuota quota = new UpstreamQuota();

    StartPacer(RateLimits limits, Ticker ticker) {
        this.limits = limits;
        this.requestBucket = limits.requestsPerMinute() > 0 ? TokenBucket.paced(limits.requestsPerMinute(), ticker) : null;
        this.tokenBucket = limits.tokensPerMinute() > 0 ? TokenBucket.paced(limits.tokensPerMinute(), ticker) : null;
    }

    /** The wait of a request needing {@code need} behind {@code aheadRequests} requests needing {@code aheadTokens}. */
    WaitEstimate wait(long nowNanos, TokenCount need, long aheadRequests, TokenCount aheadTokens) {
        WaitEstimate wait = quota.estimate(nowNanos, need, aheadRequests, aheadTokens);
        if (requestBucket != null) {
            wait = wait.max(requestBucket.nanosUntilAvailable(1, aheadRequests),
                    "requests_per_minute: " + limits.requestsPerMinute());
        }
        if (tokenBucket != null) {
            wait = wait.max(tokenBucket.nanosUntilAvailable(need.total(), aheadTokens.total()),
                    "tokens_per_minute: " + limits.tokensPerMinute());
        }
        return wait;
    }

    /** Charges a start that {@link #wait} allowed. */
    void charge(long nowNanos, TokenCount estimate) {
        if (requestBucket != null) requestBucket.tryTake(1);
        if (tokenBucket != null) tokenBucket.tryTake(estimate.total());
        quota.debit(nowNanos, estimate);
    }

    /** Replaces the estimate charged at the start by the usage the response reported. */
    void correct(TokenCount estimate, TokenCount actualUsage) {
        if (tokenBucket != null) tokenBucket.adjust(estimate.total() - actualUsage.total());
    }

    UpstreamQuota quota() { return quota; }
}
