package io.modelegress.core.ratelimit;

import io.modelegress.core.time.Ticker;

/**
 * When the next start may happen as far as rates go: our own request and token buckets, and what the upstream
 * told us (429 cooldowns, remaining quotas). Concurrency is the limiter's business, not this one's.
 *
 * <p>With a shared scope the fleet's store paces, and the buckets here are the fallback for when it cannot answer:
 * they then hold {@code 1 / replicas} of each budget ({@link #rescale}). Calls pass {@code buckets = false} for
 * starts the fleet paced; the upstream's own signals apply to every start.
 *
 * <p>Not thread-safe: guarded by the owning limiter's lock.
 */
final class StartPacer {
    private final RateLimits limits;
    private final Ticker ticker;
    private final UpstreamQuota quota = new UpstreamQuota();
    private TokenBucket requestBucket;
    private TokenBucket tokenBucket;
    private int share = 1;
    // What a wait on each bucket says it waits for: made with the buckets, not on every estimate.
    private String requestReason;
    private String tokenReason;

    StartPacer(RateLimits limits, Ticker ticker) {
        this.limits = limits;
        this.ticker = ticker;
        build();
    }

    /** Paces at {@code 1 / replicas} of each budget from now on (fresh buckets); no-op when unchanged. */
    void rescale(int replicas) {
        int r = Math.max(1, replicas);
        if (r == share) return;
        share = r;
        build();
    }

    int share() { return share; }

    private void build() {
        long rpm = scaled(limits.requestsPerMinute());
        long tpm = scaled(limits.tokensPerMinute());
        requestBucket = rpm > 0 ? TokenBucket.paced(rpm, ticker) : null;
        tokenBucket = tpm > 0 ? TokenBucket.paced(tpm, ticker) : null;
        String fleet = share > 1 ? " / " + share + " replicas" : "";
        requestReason = "requests_per_minute: " + limits.requestsPerMinute() + fleet;
        tokenReason = "tokens_per_minute: " + limits.tokensPerMinute() + fleet;
    }

    private long scaled(long perMinute) {
        return perMinute == 0 ? 0 : Math.max(1, perMinute / share);
    }

    WaitEstimate wait(long nowNanos, TokenCount need, long aheadRequests, TokenCount aheadTokens) {
        return wait(nowNanos, need, aheadRequests, aheadTokens, true);
    }

    /** The wait of a request needing {@code need} behind {@code aheadRequests} requests needing {@code aheadTokens}. */
    WaitEstimate wait(long nowNanos, TokenCount need, long aheadRequests, TokenCount aheadTokens, boolean buckets) {
        WaitEstimate wait = quota.estimate(nowNanos, need, aheadRequests, aheadTokens);
        if (!buckets) return wait;
        if (requestBucket != null) wait = wait.max(requestBucket.nanosUntilAvailable(1, aheadRequests), requestReason);
        if (tokenBucket != null) wait = wait.max(tokenBucket.nanosUntilAvailable(need.total(), aheadTokens.total()), tokenReason);
        return wait;
    }

    /** Charges a start that {@link #wait} allowed. */
    void charge(long nowNanos, TokenCount estimate, boolean buckets) {
        if (buckets && requestBucket != null) requestBucket.tryTake(1);
        if (buckets && tokenBucket != null) tokenBucket.tryTake(estimate.total());
        quota.debit(nowNanos, estimate);
    }

    /** Replaces the estimate charged at the start by the usage the response reported. */
    void correct(TokenCount estimate, TokenCount actualUsage) {
        if (tokenBucket != null) tokenBucket.adjust(estimate.total() - actualUsage.total());
    }

    UpstreamQuota quota() { return quota; }
}
