package io.modelegress.core.retry;

import io.modelegress.core.config.RetrySettings;
import io.modelegress.core.error.ErrorCode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;

import static io.modelegress.core.retry.AttemptOutcome.failure;
import static io.modelegress.core.retry.AttemptOutcome.status;
import static io.modelegress.core.retry.RetryDecision.StopReason.ATTEMPTS_EXHAUSTED;
import static io.modelegress.core.retry.RetryDecision.StopReason.BUDGET_EXHAUSTED;
import static io.modelegress.core.retry.RetryDecision.StopReason.COMMITTED;
import static io.modelegress.core.retry.RetryDecision.StopReason.DEADLINE;
import static io.modelegress.core.retry.RetryDecision.StopReason.NOT_RETRYABLE;
import static io.modelegress.core.retry.RetryDecision.StopReason.RETRY_AFTER_TOO_LONG;
import static io.modelegress.core.retry.RetryDecision.nextUpstream;
import static io.modelegress.core.retry.RetryDecision.retrySame;
import static io.modelegress.core.retry.RetryDecision.stop;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.params.provider.Arguments.arguments;

class RetryPolicyTest {
    private static final long MINUTE = Duration.ofMinutes(1).toNanos();
    private static final BooleanSupplier BUDGET_OK = () -> true;
    /** With random 0.5 the first retry of the default back-off (base 250ms) waits 125ms. */
    private static final RetryDecision FIRST_BACKOFF = retrySame(Duration.ofMillis(125));
    private static final RetryDecision FALLBACK = nextUpstream(Duration.ZERO);

    private final RetryPolicy defaults = RetryPolicy.ofDefaults();

    private static RetryDecision decide(RetryPolicy policy, AttemptOutcome outcome, boolean hasNextUpstream) {
        return policy.decide(outcome, 1, hasNextUpstream, MINUTE, BUDGET_OK, () -> 0.5);
    }

    private static AttemptOutcome status400(String code) {
        return status(400, code, Optional.empty());
    }

    static Stream<Arguments> lastUpstream() {
        return Stream.of(
                arguments(failure(ErrorCode.UPSTREAM_CONNECT_REFUSED), FIRST_BACKOFF),
                arguments(failure(ErrorCode.UPSTREAM_CONNECT_TIMEOUT), FIRST_BACKOFF),
                arguments(failure(ErrorCode.DNS_RESOLUTION_FAILED), FIRST_BACKOFF),
                arguments(failure(ErrorCode.DNS_TIMEOUT), FIRST_BACKOFF),
                arguments(failure(ErrorCode.PROXY_UNREACHABLE), FIRST_BACKOFF),
                arguments(failure(ErrorCode.PROXY_CONNECT_TIMEOUT), FIRST_BACKOFF),
                arguments(failure(ErrorCode.TLS_HANDSHAKE_TIMEOUT), FIRST_BACKOFF),
                // connect-phase, but the same certificate / proxy answer comes back every time
                arguments(failure(ErrorCode.TLS_HANDSHAKE_FAILED), stop(NOT_RETRYABLE)),
                arguments(failure(ErrorCode.PROXY_AUTH_REQUIRED), stop(NOT_RETRYABLE)),
                arguments(failure(ErrorCode.PROXY_REJECTED), stop(NOT_RETRYABLE)),
                arguments(failure(ErrorCode.UPSTREAM_RESET), FIRST_BACKOFF),
                arguments(failure(ErrorCode.UPSTREAM_RESET).afterResponseStarted(), stop(NOT_RETRYABLE)),
                arguments(failure(ErrorCode.UPSTREAM_RESPONSE_TIMEOUT), stop(NOT_RETRYABLE)),
                arguments(failure(ErrorCode.FIRST_TOKEN_TIMEOUT).afterResponseStarted(), stop(NOT_RETRYABLE)),
                arguments(failure(ErrorCode.REQUEST_DEADLINE_EXCEEDED), stop(DEADLINE)),
                arguments(failure(ErrorCode.STREAM_IDLE_TIMEOUT).afterCommit(), stop(COMMITTED)),
                arguments(status(429), FIRST_BACKOFF),
                arguments(status(502), FIRST_BACKOFF),
                arguments(status(503), FIRST_BACKOFF),
                arguments(status(504), FIRST_BACKOFF),
                arguments(status(500), FIRST_BACKOFF),   // transient 500s are retried, as the OpenAI SDKs do
                arguments(status(400), stop(NOT_RETRYABLE)),
                arguments(status(401), stop(NOT_RETRYABLE)),
                arguments(status(403), stop(NOT_RETRYABLE)),
                arguments(status(404), stop(NOT_RETRYABLE)),
                arguments(status(408), stop(NOT_RETRYABLE)),   // allowed in retry_on, not there by default
                arguments(status(409), stop(NOT_RETRYABLE)),
                arguments(status(422), stop(NOT_RETRYABLE)),
                arguments(status(200), stop(NOT_RETRYABLE)),
                arguments(status(429, "insufficient_quota", Optional.empty()), stop(NOT_RETRYABLE)),
                arguments(status400("context_length_exceeded"), stop(NOT_RETRYABLE)));
    }

    @ParameterizedTest(name = "on the last upstream, {0} -> {1}")
    @MethodSource
    void lastUpstream(AttemptOutcome outcome, RetryDecision expected) {
        assertEquals(expected, decide(defaults, outcome, false));
    }

    static Stream<Arguments> withAnotherUpstream() {
        return Stream.of(
                arguments(failure(ErrorCode.UPSTREAM_CONNECT_REFUSED), FALLBACK),
                arguments(failure(ErrorCode.DNS_RESOLUTION_FAILED), FALLBACK),
                // another upstream has another certificate and maybe another proxy
                arguments(failure(ErrorCode.TLS_HANDSHAKE_FAILED), FALLBACK),
                arguments(failure(ErrorCode.PROXY_AUTH_REQUIRED), FALLBACK),
                arguments(failure(ErrorCode.UPSTREAM_RESET), FALLBACK),
                arguments(failure(ErrorCode.UPSTREAM_RESET).afterResponseStarted(), stop(NOT_RETRYABLE)),
                arguments(failure(ErrorCode.UPSTREAM_RESPONSE_TIMEOUT), FALLBACK),
                arguments(failure(ErrorCode.FIRST_TOKEN_TIMEOUT).afterResponseStarted(), FALLBACK),
                arguments(failure(ErrorCode.FIRST_TOKEN_TIMEOUT).afterCommit(), stop(COMMITTED)),
                // An upstream that answered is alive: it is tried again first (attempts_per_upstream)...
                arguments(status(429), FIRST_BACKOFF),
                arguments(status(500), FIRST_BACKOFF),
                arguments(status(502), FIRST_BACKOFF),
                // ...unless the answer is not one retry_on names, or says waiting will not help.
                arguments(status(529), FALLBACK),
                arguments(status(429, "insufficient_quota", Optional.empty()), FALLBACK),
                arguments(status400("context_length_exceeded"), FALLBACK),
                arguments(status400("invalid_request_error"), stop(NOT_RETRYABLE)),
                arguments(status400(null), stop(NOT_RETRYABLE)),
                arguments(status400("content_filter"), stop(NOT_RETRYABLE)),
                arguments(status400("content_policy_violation"), stop(NOT_RETRYABLE)),
                arguments(status(404), stop(NOT_RETRYABLE)),
                arguments(status(401), stop(NOT_RETRYABLE)));
    }

    @ParameterizedTest(name = "with another upstream left, {0} -> {1}")
    @MethodSource
    void withAnotherUpstream(AttemptOutcome outcome, RetryDecision expected) {
        assertEquals(expected, decide(defaults, outcome, true));
    }

    @ParameterizedTest(name = "{0} is never retried once committed")
    @EnumSource(value = ErrorCode.class, names = {"UPSTREAM_RESET", "UPSTREAM_CONNECT_REFUSED", "STREAM_IDLE_TIMEOUT"})
    void neverRetriesAfterCommit(ErrorCode code) {
        assertEquals(stop(COMMITTED), decide(defaults, failure(code).afterCommit(), true));
        assertEquals(stop(COMMITTED), decide(defaults, status(503).afterCommit(), false));
    }

    @Test
    void timeoutMovesToNextUpstreamButNotSameOne() {
        AttemptOutcome timeout = failure(ErrorCode.UPSTREAM_RESPONSE_TIMEOUT);
        assertEquals(FALLBACK, decide(defaults, timeout, true));
        assertEquals(stop(NOT_RETRYABLE), decide(defaults, timeout, false));
    }

    @Test
    void retriesTimeoutOnSameUpstreamOnlyWhenRetryOnTimeout() {
        RetryPolicy policy = RetryPolicy.builder().retryOnTimeout(true).build();
        assertEquals(FIRST_BACKOFF, decide(policy, failure(ErrorCode.UPSTREAM_RESPONSE_TIMEOUT), false));
        assertEquals(FIRST_BACKOFF, decide(policy, failure(ErrorCode.FIRST_TOKEN_TIMEOUT).afterResponseStarted(), false));
    }

    @Test
    void timeoutInRetryOnIsTheSameSwitchAsRetryOnTimeout() {
        RetryPolicy policy = RetryPolicy.builder().retryOn(List.of("timeout")).build();
        assertEquals(FIRST_BACKOFF, decide(policy, failure(ErrorCode.UPSTREAM_RESPONSE_TIMEOUT), false));
    }

    @Test
    void fallbackOn4xxStillNeverLaundersAContentPolicyRejection() {
        RetryPolicy policy = RetryPolicy.builder().fallbackOn(List.of("4xx")).build();
        assertEquals(FALLBACK, decide(policy, status(401), true));
        assertEquals(FIRST_BACKOFF, decide(policy, status(429), true)); // an answer: same upstream first
        assertEquals(stop(NOT_RETRYABLE), decide(policy, status400("content_policy_violation"), true));
        assertEquals(FIRST_BACKOFF, decide(policy, status(503), true));   // not a fallback reason: retried in place
    }

    @Test
    void buildsFromTheConfigRecords() {
        RetrySettings settings = new RetrySettings(5, List.of("5xx"), true, Duration.ofMillis(100),
                Duration.ofSeconds(1), Duration.ofSeconds(5), 0.2, 5);
        RetryPolicy policy = RetryPolicy.from(settings, List.of("connect_failure"));
        assertEquals(5, policy.maxAttempts());
        assertEquals(Duration.ofSeconds(5), policy.maxRetryAfter());
        assertEquals(retrySame(Duration.ofMillis(50)), decide(policy, status(500), true));
        assertEquals(FALLBACK, decide(policy, failure(ErrorCode.UPSTREAM_CONNECT_REFUSED), true));
    }

    @Test
    void invalidConfigRecordsFailWithTheKeyNamed() {
        RetrySettings settings = new RetrySettings(3, List.of("404"), false, Duration.ofMillis(100),
                Duration.ofSeconds(1), Duration.ofSeconds(5), 0.2, 5);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> RetryPolicy.from(settings, List.of()));
        assertTrue(e.getMessage().startsWith("retry.retry_on: 404 "), e.getMessage());
    }

    @Test
    void retryOnDecidesWhichStatusesAreRetried() {
        RetryPolicy policy = RetryPolicy.builder().retryOn(List.of("5xx", "408")).build();
        assertEquals(FIRST_BACKOFF, decide(policy, status(500), false));
        assertEquals(FIRST_BACKOFF, decide(policy, status(408), false));
        assertEquals(stop(NOT_RETRYABLE), decide(policy, status(429), false));
        assertEquals(stop(NOT_RETRYABLE), decide(policy, failure(ErrorCode.UPSTREAM_CONNECT_REFUSED), false));
    }

    @Test
    void fallbackOnDecidesWhatMovesToTheNextUpstream() {
        RetryPolicy policy = RetryPolicy.builder().fallbackOn(List.of("connect_failure")).build();
        assertEquals(FALLBACK, decide(policy, failure(ErrorCode.UPSTREAM_CONNECT_REFUSED), true));
        // not a fallback reason, but still a same-upstream retry reason
        assertEquals(FIRST_BACKOFF, decide(policy, status(503), true));
        assertEquals(stop(NOT_RETRYABLE), decide(policy, failure(ErrorCode.UPSTREAM_RESPONSE_TIMEOUT), true));
    }

    @Test
    void honoursUpstreamRetryAfterUpToMax() {
        AttemptOutcome throttled = status(429, null, Optional.of(Duration.ofSeconds(30)));
        assertEquals(retrySame(Duration.ofSeconds(30)), decide(defaults, throttled, false));
    }

    @Test
    void honoursRetryAfterOnEveryAttemptNotOnlyTheFirst() {
        AttemptOutcome throttled = status(503, null, Optional.of(Duration.ofMillis(1500)));
        assertEquals(retrySame(Duration.ofMillis(1500)), defaults.decide(throttled, 2, false, MINUTE, BUDGET_OK, () -> 0.5));
    }

    @Test
    void returnsTheUpstreamAnswerWhenItsRetryAfterIsLongerThanMax() {
        AttemptOutcome throttled = status(429, null, Optional.of(Duration.ofSeconds(31)));
        assertEquals(stop(RETRY_AFTER_TOO_LONG), decide(defaults, throttled, false));
        // the hint belongs to the throttled upstream; another one is tried at once
        assertEquals(FALLBACK, decide(defaults, throttled, true));
    }

    @Test
    void zeroRetryAfterFallsBackToTheJitteredBackoff() {
        assertEquals(FIRST_BACKOFF, decide(defaults, status(429, null, Optional.of(Duration.ZERO)), false));
    }

    @Test
    void backoffGrowsWithTheAttemptNumber() {
        RetryPolicy policy = RetryPolicy.builder().maxAttempts(5).build();
        RetryDecision afterThird = policy.decide(status(503), 3, false, MINUTE, BUDGET_OK, () -> 0.5);
        assertEquals(retrySame(Duration.ofMillis(500)), afterThird);   // ceiling 1s, random 0.5
    }

    @Test
    void stopsWhenTheWaitWouldPassTheDeadline() {
        AttemptOutcome throttled = status(429, null, Optional.of(Duration.ofSeconds(20)));
        long tenSeconds = Duration.ofSeconds(10).toNanos();
        assertEquals(stop(DEADLINE), defaults.decide(throttled, 1, false, tenSeconds, BUDGET_OK, () -> 0.5));
        long backoffExactly = Duration.ofMillis(125).toNanos();
        assertEquals(stop(DEADLINE), defaults.decide(status(503), 1, false, backoffExactly, BUDGET_OK, () -> 0.5));
    }

    @Test
    void stopsWhenTheDeadlineHasPassedEvenForAFallback() {
        assertEquals(stop(DEADLINE), defaults.decide(status(503), 1, true, 0, BUDGET_OK, () -> 0.5));
    }

    @Test
    void maxAttemptsCountsEveryAttemptAcrossUpstreams() {
        RetryPolicy policy = RetryPolicy.builder().maxAttempts(3).build();
        AttemptOutcome refused = failure(ErrorCode.UPSTREAM_CONNECT_REFUSED);
        assertEquals(FALLBACK, policy.decide(refused, 2, true, MINUTE, BUDGET_OK, () -> 0.5));
        assertEquals(stop(ATTEMPTS_EXHAUSTED), policy.decide(refused, 3, true, MINUTE, BUDGET_OK, () -> 0.5));
        assertEquals(stop(ATTEMPTS_EXHAUSTED), policy.decide(refused, 3, false, MINUTE, BUDGET_OK, () -> 0.5));
    }

    @Test
    void singleAttemptMeansNoRetryAtAll() {
        RetryPolicy policy = RetryPolicy.builder().maxAttempts(1).build();
        assertEquals(stop(ATTEMPTS_EXHAUSTED), decide(policy, status(503), true));
    }

    @Test
    void stopsWhenTheUpstreamsRetryBudgetRefuses() {
        assertEquals(stop(BUDGET_EXHAUSTED), defaults.decide(status(503), 1, false, MINUTE, () -> false, () -> 0.5));
    }

    @Test
    void asksTheBudgetOnlyForARetryThatIsReallyMade() {
        AtomicInteger asked = new AtomicInteger();
        BooleanSupplier counting = () -> { asked.incrementAndGet(); return true; };
        defaults.decide(status(404), 1, false, MINUTE, counting, () -> 0.5);                    // not retryable
        defaults.decide(status(503), 3, false, MINUTE, counting, () -> 0.5);                    // exhausted
        defaults.decide(status(503), 1, false, 1, counting, () -> 0.5);                         // deadline
        defaults.decide(status(503), 2, 2, true, MINUTE, counting, () -> 0.5);                  // fallback: not charged
        assertEquals(0, asked.get());
        defaults.decide(status(503), 1, false, MINUTE, counting, () -> 0.5);
        assertEquals(1, asked.get());
    }

    @Test
    void neverFallsBackOnContentPolicyRejectionWhateverTheConfigSays() {
        RetryPolicy policy = RetryPolicy.builder().retryOn(List.of("5xx")).fallbackOn(List.of("400", "5xx")).build();
        assertEquals(stop(NOT_RETRYABLE), decide(policy, status400("content_filter"), true));
        assertEquals(FALLBACK, decide(policy, status400("invalid_request_error"), true));
        assertEquals(stop(NOT_RETRYABLE), decide(policy, status(500, "content_filter", Optional.empty()), true));
    }

    @Test
    void validatesMaxAttempts() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> RetryPolicy.builder().maxAttempts(0));
        assertEquals("retry.max_attempts: 0 (expected: >= 1)", e.getMessage());
    }

    @Test
    void validatesMaxRetryAfter() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> RetryPolicy.builder().maxRetryAfter(Duration.ofSeconds(-1)));
        assertEquals("retry.max_retry_after: PT-1S (expected: >= 0)", e.getMessage());
    }

    @Test
    void describesItselfForTheConfigEndpoint() {
        String text = defaults.toString();
        assertTrue(text.contains("retryOn=[429, 500, 502, 503, 504, connect_failure, reset]"), text);
        assertTrue(text.contains("attemptsPerUpstream=2, maxSameUpstreamWait=PT5S"), text);
        assertTrue(text.contains("fallbackOn=[429, 5xx, connect_failure, context_length_exceeded, reset, timeout]"), text);
    }

    private static AttemptOutcome answer(int status, long retryAfterSeconds) {
        return AttemptOutcome.status(status, null, Optional.of(Duration.ofSeconds(retryAfterSeconds))).afterResponseStarted();
    }

    /** made, on this upstream, next upstream?, outcome -> decision (defaults: 3 attempts, 2 per upstream, 5s wait). */
    static Stream<Arguments> sameUpstreamFirst() {
        return Stream.of(
                arguments(1, 1, true, answer(429, 2), retrySame(Duration.ofSeconds(2))),       // waited out on the primary
                arguments(1, 1, true, answer(429, 5), retrySame(Duration.ofSeconds(5))),       // at the boundary
                arguments(1, 1, true, answer(429, 6), FALLBACK),                                // longer: move on at once
                arguments(1, 1, false, answer(429, 6), retrySame(Duration.ofSeconds(6))),      // nowhere else: max_retry_after
                arguments(1, 1, false, answer(429, 31), stop(RETRY_AFTER_TOO_LONG)),
                arguments(2, 2, true, answer(429, 1), FALLBACK),                                // per-upstream tries used
                arguments(2, 2, false, answer(429, 1), retrySame(Duration.ofSeconds(1))),      // max_attempts bounds the one there is
                arguments(3, 1, true, answer(429, 1), stop(ATTEMPTS_EXHAUSTED)),                // the route's total bounds all
                arguments(2, 1, true, answer(503, 1), retrySame(Duration.ofSeconds(1))),       // the fallback's first failure: same first there too
                arguments(1, 1, true, failure(ErrorCode.UPSTREAM_CONNECT_REFUSED), FALLBACK),  // not an answer: move at once
                arguments(1, 1, true, failure(ErrorCode.UPSTREAM_RESET), FALLBACK),
                arguments(1, 1, true, failure(ErrorCode.UPSTREAM_RESPONSE_TIMEOUT), FALLBACK),
                arguments(1, 1, true, status400("context_length_exceeded"), FALLBACK));
    }

    @ParameterizedTest(name = "attempt {0} ({1} on this upstream), next upstream {2}: {3} -> {4}")
    @MethodSource
    void sameUpstreamFirst(int made, int onUpstream, boolean next, AttemptOutcome outcome, RetryDecision expected) {
        assertEquals(expected, defaults.decide(outcome, made, onUpstream, next, MINUTE, () -> true, () -> 0.5));
    }

    @Test
    void aWaitThatDoesNotFitTheDeadlineMovesOnOrStops() {
        long fourSeconds = Duration.ofSeconds(4).toNanos();
        assertEquals(FALLBACK, defaults.decide(answer(429, 5), 1, 1, true, fourSeconds, () -> true, () -> 0.5));
        assertEquals(stop(DEADLINE), defaults.decide(answer(429, 5), 1, 1, false, fourSeconds, () -> true, () -> 0.5));
    }

    @Test
    void aSpentBudgetMovesToTheNextUpstreamInsteadOfStopping() {
        assertEquals(FALLBACK, defaults.decide(status(503), 1, 1, true, MINUTE, () -> false, () -> 0.5));
    }

    @Test
    void aStaleConnectionIsReplayedAtOnceWithoutTheBudgetButNeverBeyondMaxAttempts() {
        AtomicInteger asked = new AtomicInteger();
        assertEquals(retrySame(Duration.ZERO), defaults.decide(AttemptOutcome.staleConnection(), 1, 1, true, MINUTE,
                () -> asked.incrementAndGet() > 0, () -> 0.5));
        assertEquals(0, asked.get());
        assertEquals(stop(ATTEMPTS_EXHAUSTED), defaults.decide(AttemptOutcome.staleConnection(), 3, 3, false, MINUTE, () -> true, () -> 0.5));
        assertEquals("stale_connection", AttemptOutcome.staleConnection().metricTag());
    }
}
