package io.modelegress.core.retry;

import io.modelegress.core.config.RetrySettings;
import io.modelegress.core.error.ErrorCode;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.function.BooleanSupplier;
import java.util.function.DoubleSupplier;

/**
 * A route's retry and fallback rules (the global {@code retry} block plus the route's {@code fallback_on}), and the
 * pure function that applies them to one failed attempt. Immutable; build once per route at config load.
 *
 * <h2>Accounting</h2>
 * One request has one deadline ({@code timeouts.request}, or {@code x-egress-timeout}) and one attempt count
 * ({@code retry.max_attempts}, the first attempt included) across all of its upstreams, as Envoy's route timeout
 * covers all its retries. So the agent's worst case is bounded by the two numbers it can see, whatever the route's
 * fallback list looks like.
 *
 * <h2>Same upstream first, then the next one</h2>
 * An upstream that <em>answered</em> 429 or 5xx is alive and usually says when to come back: it is tried again
 * first — up to {@code retry.attempts_per_upstream} tries on it — after its {@code Retry-After} when that fits
 * ({@code retry.max_same_upstream_wait} and the deadline) or the jittered back-off, because the route's next upstream
 * is often slower, dearer or a weaker model. A wait that does not fit, a spent budget, or the per-upstream tries used
 * up move the request to the next upstream at once. What says nothing good about the same upstream soon — it could
 * not be reached, it reset, it did not answer in time, the context is too long for its model — moves at once, as a
 * fallback does not back off from a failure that was not its own. With no next upstream, {@code max_attempts} alone
 * bounds the tries on the one there is. A connection that was stale in the pool is replaced once, at once: the
 * upstream cannot have seen the request. Fallbacks and replays are not charged to a retry budget; retries of the same
 * upstream are (see {@link RetryBudget}).
 */
public final class RetryPolicy {
    /** OpenAI's "your account is out of credit": waiting will not fix it, another provider might. */
    private static final String INSUFFICIENT_QUOTA = "insufficient_quota";

    private final int maxAttempts;
    private final RetryConditions retryOn;
    private final boolean retryOnTimeout;
    private final Backoff backoff;
    private final Duration maxRetryAfter;
    private final RetryConditions fallbackOn;
    private final int attemptsPerUpstream;
    private final Duration maxSameUpstreamWait;

    private RetryPolicy(Builder b) {
        this.attemptsPerUpstream = b.attemptsPerUpstream;
        this.maxSameUpstreamWait = b.maxSameUpstreamWait;
        this.maxAttempts = b.maxAttempts;
        this.retryOn = b.retryOn;
        this.retryOnTimeout = b.retryOnTimeout;
        this.backoff = b.backoff;
        this.maxRetryAfter = b.maxRetryAfter;
        this.fallbackOn = b.fallbackOn;
    }

    public static RetryPolicy ofDefaults() { return builder().build(); }

    /**
     * The policy of a route: its {@code retry} block (global merged with the route's override) and its
     * {@code fallback_on}. Throws {@link IllegalArgumentException} naming the key; the config mapper can turn that
     * into a problem with file and line.
     */
    public static RetryPolicy from(RetrySettings retry, List<String> fallbackOn) {
        return builder()
                .maxAttempts(retry.maxAttempts())
                .retryOn(retry.retryOn())
                .retryOnTimeout(retry.retryOnTimeout())
                .backoff(retry.backoffBase(), retry.backoffMax())
                .maxRetryAfter(retry.maxRetryAfter())
                .fallbackOn(fallbackOn)
                .attemptsPerUpstream(retry.attemptsPerUpstream())
                .maxSameUpstreamWait(retry.maxSameUpstreamWait())
                .build();
    }

    /** Starts from the documented defaults; each setter validates and names the config key it came from. */
    public static Builder builder() { return new Builder(); }

    public int maxAttempts() { return maxAttempts; }

    public Backoff backoff() { return backoff; }

    public Duration maxRetryAfter() { return maxRetryAfter; }

    /** {@link #decide(AttemptOutcome, int, int, boolean, long, BooleanSupplier, DoubleSupplier)} for a route's first upstream. */
    public RetryDecision decide(AttemptOutcome outcome, int attemptsMade, boolean hasNextUpstream,
                                long remainingNanos, BooleanSupplier sameUpstreamBudget, DoubleSupplier random) {
        return decide(outcome, attemptsMade, attemptsMade, hasNextUpstream, remainingNanos, sameUpstreamBudget, random);
    }

    /**
     * Decides what follows a failed attempt. Pure apart from {@code sameUpstreamBudget}, which is asked last and only
     * when the answer would otherwise be {@link RetryDecision.Action#RETRY_SAME}, so a budget permit is taken only
     * for a retry that is really made.
     *
     * @param outcome            how the attempt ended
     * @param attemptsMade       attempts made so far for this request, across upstreams, the failed one included
     * @param attemptsOnUpstream of those, the ones made on the failed attempt's upstream
     * @param hasNextUpstream    whether the route has an upstream after the current one that its breaker admits
     * @param remainingNanos     time left before the request deadline
     * @param sameUpstreamBudget e.g. {@code budget::tryAcquireRetry} of the current upstream; a true answer is a
     *                           permit the server must return when that retry ends or is abandoned
     * @param random             uniform draws in [0, 1) for the back-off jitter
     */
    public RetryDecision decide(AttemptOutcome outcome, int attemptsMade, int attemptsOnUpstream, boolean hasNextUpstream,
                                long remainingNanos, BooleanSupplier sameUpstreamBudget, DoubleSupplier random) {
        if (outcome.committed()) return RetryDecision.stop(RetryDecision.StopReason.COMMITTED);
        if (outcome.isFailure(ErrorCode.REQUEST_DEADLINE_EXCEEDED)) return stopDeadline();
        if (outcome.isContentPolicyRejection()) return RetryDecision.stop(RetryDecision.StopReason.NOT_RETRYABLE);
        if (outcome.isStaleConnection()) {
            if (attemptsMade >= maxAttempts) return RetryDecision.stop(RetryDecision.StopReason.ATTEMPTS_EXHAUSTED);
            return remainingNanos <= 0 ? stopDeadline() : RetryDecision.retrySame(Duration.ZERO);
        }

        boolean fallBack = hasNextUpstream && fallbackOn.matches(outcome);
        boolean same = retryableOnSameUpstream(outcome);
        if (!fallBack && !same) return RetryDecision.stop(RetryDecision.StopReason.NOT_RETRYABLE);
        if (attemptsMade >= maxAttempts) return RetryDecision.stop(RetryDecision.StopReason.ATTEMPTS_EXHAUSTED);
        if (remainingNanos <= 0) return stopDeadline();
        // With a next upstream, only an answer is worth another try here, and only attempts_per_upstream of them.
        if (fallBack && (!same || !outcome.isAnswer() || attemptsOnUpstream >= attemptsPerUpstream)) {
            return RetryDecision.nextUpstream(Duration.ZERO);
        }

        long delayNanos;
        Duration hint = outcome.retryAfter().orElse(Duration.ZERO);
        if (!hint.isZero()) {
            if (fallBack && hint.compareTo(maxSameUpstreamWait) > 0) return RetryDecision.nextUpstream(Duration.ZERO);
            // Waiting less than asked buys another refusal; waiting longer is not ours to decide. Envoy discards such
            // hints too. The agent gets the upstream's answer, Retry-After included, and chooses for itself.
            if (hint.compareTo(maxRetryAfter) > 0) return RetryDecision.stop(RetryDecision.StopReason.RETRY_AFTER_TOO_LONG);
            delayNanos = hint.toNanos();
        } else {
            delayNanos = backoff.delayNanos(Math.max(1, attemptsOnUpstream), random);
        }
        if (delayNanos >= remainingNanos) return fallBack ? RetryDecision.nextUpstream(Duration.ZERO) : stopDeadline();
        if (!sameUpstreamBudget.getAsBoolean()) {
            return fallBack ? RetryDecision.nextUpstream(Duration.ZERO) : RetryDecision.stop(RetryDecision.StopReason.BUDGET_EXHAUSTED);
        }
        return RetryDecision.retrySame(Duration.ofNanos(delayNanos));
    }

    private boolean retryableOnSameUpstream(AttemptOutcome outcome) {
        // Certificate, proxy-credential and proxy-rule failures are connect-phase but repeat identically on retry.
        if (outcome.isConnectFailure()) return retryOn.matches(outcome) && outcome.failure().orElseThrow().retryable();
        // A model that did not answer in time usually will not on the next try either; it costs the agent another
        // full timeout. Opt in with retry_on_timeout.
        if (outcome.isTimeout()) return retryOnTimeout || retryOn.matches(outcome);
        if (outcome.hasUpstreamErrorCode(INSUFFICIENT_QUOTA)) return false;
        return retryOn.matches(outcome);
    }

    private static RetryDecision stopDeadline() {
        return RetryDecision.stop(RetryDecision.StopReason.DEADLINE);
    }

    @Override
    public String toString() {
        return "RetryPolicy{maxAttempts=" + maxAttempts + ", retryOn=" + retryOn + ", retryOnTimeout=" + retryOnTimeout
                + ", " + backoff + ", maxRetryAfter=" + maxRetryAfter + ", fallbackOn=" + fallbackOn
                + ", attemptsPerUpstream=" + attemptsPerUpstream + ", maxSameUpstreamWait=" + maxSameUpstreamWait + '}';
    }

    /** Validating builder; defaults are those of {@code reference.conf}. */
    public static final class Builder {
        private int maxAttempts = 3;
        private RetryConditions retryOn = RetryConditions.parseRetryOn(
                "retry.retry_on", List.of("connect_failure", "reset", "429", "500", "502", "503", "504"));
        private int attemptsPerUpstream = 2;
        private Duration maxSameUpstreamWait = Duration.ofSeconds(5);
        private boolean retryOnTimeout;
        private Backoff backoff = Backoff.of(Duration.ofMillis(250), Duration.ofSeconds(8));
        private Duration maxRetryAfter = Duration.ofSeconds(30);
        private RetryConditions fallbackOn = RetryConditions.parseFallbackOn(
                "fallback_on", List.of("connect_failure", "reset", "timeout", "429", "5xx", "context_length_exceeded"));

        private Builder() {}

        /** {@code retry.max_attempts}: attempts per request including the first, across all upstreams. */
        public Builder maxAttempts(int maxAttempts) {
            if (maxAttempts < 1) {
                throw new IllegalArgumentException("retry.max_attempts: " + maxAttempts + " (expected: >= 1)");
            }
            this.maxAttempts = maxAttempts;
            return this;
        }

        /** {@code retry.retry_on}, e.g. {@code [connect_failure, reset, 429, 502, 503, 504]}. */
        public Builder retryOn(List<String> conditions) {
            this.retryOn = RetryConditions.parseRetryOn("retry.retry_on", conditions);
            return this;
        }

        /** {@code retry.retry_on_timeout}: also retry response-headers and first-token timeouts on the same upstream. */
        public Builder retryOnTimeout(boolean retryOnTimeout) {
            this.retryOnTimeout = retryOnTimeout;
            return this;
        }

        /** {@code retry.backoff.base} and {@code retry.backoff.max}. */
        public Builder backoff(Duration base, Duration max) {
            this.backoff = Backoff.of(base, max);
            return this;
        }

        /** {@code retry.max_retry_after}: the longest upstream wait hint we sit out before retrying the same upstream. */
        public Builder maxRetryAfter(Duration maxRetryAfter) {
            Objects.requireNonNull(maxRetryAfter, "retry.max_retry_after");
            if (maxRetryAfter.isNegative()) {
                throw new IllegalArgumentException("retry.max_retry_after: " + maxRetryAfter + " (expected: >= 0)");
            }
            this.maxRetryAfter = maxRetryAfter;
            return this;
        }

        /** The route's {@code fallback_on}, e.g. {@code [connect_failure, reset, timeout, 429, 5xx]}. */
        public Builder fallbackOn(List<String> conditions) {
            this.fallbackOn = RetryConditions.parseFallbackOn("fallback_on", conditions);
            return this;
        }

        /** {@code retry.attempts_per_upstream}: tries on one upstream before the route's next one is tried. */
        public Builder attemptsPerUpstream(int n) {
            if (n < 1) throw new IllegalArgumentException("retry.attempts_per_upstream: " + n + " (expected: >= 1)");
            this.attemptsPerUpstream = n;
            return this;
        }

        /** {@code retry.max_same_upstream_wait}: the longest wait hint sat out on the same upstream while a next one exists. */
        public Builder maxSameUpstreamWait(Duration d) {
            Objects.requireNonNull(d, "retry.max_same_upstream_wait");
            if (d.isNegative()) throw new IllegalArgumentException("retry.max_same_upstream_wait: " + d + " (expected: >= 0)");
            this.maxSameUpstreamWait = d;
            return this;
        }

        public RetryPolicy build() { return new RetryPolicy(this); }
    }
}
