package io.modelegress.core.retry;

import io.modelegress.core.error.ErrorCode;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * What one upstream attempt ended with: either a failure we classified ({@link ErrorCode}) or an HTTP status the
 * upstream answered, plus how far the exchange got. Immutable; the server builds one per failed attempt.
 *
 * <p>Two progress flags, because they guard different things:
 * <ul>
 *   <li>{@code responseStarted}: some response byte came back from the upstream, so it has seen (and may have
 *       processed and billed) the request. A reset after this point is not retried.</li>
 *   <li>{@code committed}: something already went to the agent. Nothing is ever retried after this: the agent
 *       would receive two responses spliced together.</li>
 * </ul>
 */
public final class AttemptOutcome {
    /** Provider error codes that reject the content itself; another attempt or another upstream must not launder it. */
    private static final Set<String> CONTENT_POLICY_CODES = Set.of("content_policy_violation", "content_filter");

    private final ErrorCode failure;
    private final int status;
    private final String upstreamErrorCode;
    private final Duration retryAfter;
    private final boolean responseStarted;
    private final boolean committed;
    /** A reused pooled connection that the server had closed before it read anything: the request never arrived. */
    private final boolean stale;

    private AttemptOutcome(ErrorCode failure, int status, String upstreamErrorCode, Duration retryAfter,
                           boolean responseStarted, boolean committed) {
        this(failure, status, upstreamErrorCode, retryAfter, responseStarted, committed, false);
    }

    private AttemptOutcome(ErrorCode failure, int status, String upstreamErrorCode, Duration retryAfter,
                           boolean responseStarted, boolean committed, boolean stale) {
        this.stale = stale;
        this.failure = failure;
        this.status = status;
        this.upstreamErrorCode = upstreamErrorCode;
        this.retryAfter = retryAfter;
        this.responseStarted = responseStarted;
        this.committed = committed;
    }

    /** The attempt failed with {@code code} before any response byte came back. */
    public static AttemptOutcome failure(ErrorCode code) {
        return new AttemptOutcome(Objects.requireNonNull(code, "code"), 0, null, null, false, false);
    }

    /** The upstream answered {@code status}; nothing else is known about the body. */
    public static AttemptOutcome status(int status) {
        return status(status, null, Optional.empty());
    }

    /**
     * The upstream answered {@code status}.
     *
     * @param upstreamErrorCode the provider's {@code error.code}/{@code error.type} (see {@link UpstreamErrorBody}),
     *                          or null
     * @param retryAfter        the upstream's wait hint (see {@link RetryAfter})
     */
    public static AttemptOutcome status(int status, String upstreamErrorCode, Optional<Duration> retryAfter) {
        if (status < 100 || status > 599) {
            throw new IllegalArgumentException("status: " + status + " (expected: 100..599)");
        }
        return new AttemptOutcome(null, status, upstreamErrorCode, retryAfter.orElse(null), true, false);
    }

    /**
     * An error answer read whole: its status, the provider's error code in its body and its wait hint. The upstream
     * has seen the request.
     */
    public static AttemptOutcome errorAnswer(int status, byte[] body, java.util.function.Function<String, String> headers,
                                             io.modelegress.core.time.Ticker ticker) {
        return status(status, UpstreamErrorBody.errorCode(body), RetryAfter.parse(headers, ticker)).afterResponseStarted();
    }

    /**
     * A 200 stream whose first event is an error (Azure does this): judged as a 5xx, or as a 400 when it says the
     * context was too long; null when {@code firstEventData} is not an error.
     */
    public static AttemptOutcome inBandError(String firstEventData) {
        if (firstEventData == null || !SseErrorEvent.isInBandError(firstEventData)) return null;
        String code = SseErrorEvent.errorCode(firstEventData);
        return status("context_length_exceeded".equals(code) ? 400 : 500, code, Optional.empty()).afterResponseStarted();
    }

    /**
     * A reused keep-alive connection broke before any response byte: the server had closed it while it sat in the
     * pool, so the upstream cannot have processed the request. Replayed at once on a fresh connection, as an attempt.
     */
    public static AttemptOutcome staleConnection() {
        return new AttemptOutcome(ErrorCode.UPSTREAM_RESET, 0, null, null, false, false, true);
    }

    /** Whether the upstream answered (a status), as opposed to a failure of ours to get an answer. */
    public boolean isAnswer() { return failure == null; }

    public boolean isStaleConnection() { return stale; }

    /** The same outcome, noting that response bytes had already arrived from the upstream. */
    public AttemptOutcome afterResponseStarted() {
        return new AttemptOutcome(failure, status, upstreamErrorCode, retryAfter, true, committed);
    }

    /** The same outcome, noting that something had already been sent to the agent. */
    public AttemptOutcome afterCommit() {
        return new AttemptOutcome(failure, status, upstreamErrorCode, retryAfter, true, true);
    }

    /** The classified failure, or empty when the upstream answered with a status. */
    public Optional<ErrorCode> failure() { return Optional.ofNullable(failure); }

    /** The upstream's HTTP status, or 0 for a failure. */
    public int status() { return status; }

    public Optional<String> upstreamErrorCode() { return Optional.ofNullable(upstreamErrorCode); }

    public Optional<Duration> retryAfter() { return Optional.ofNullable(retryAfter); }

    public boolean responseStarted() { return responseStarted; }

    public boolean committed() { return committed; }

    boolean isFailure(ErrorCode code) { return failure == code; }

    boolean isConnectFailure() { return failure != null && failure.isConnectPhase(); }

    boolean isTimeout() { return failure != null && failure.isTimeout(); }

    /** A reset only counts as one (retryable, fallback-able) before the upstream answered anything. */
    boolean isResetBeforeResponse() { return failure == ErrorCode.UPSTREAM_RESET && !responseStarted; }

    boolean hasUpstreamErrorCode(String code) { return code.equals(upstreamErrorCode); }

    /** A provider's refusal of the content: never retried, never sent to another upstream. */
    public boolean isContentPolicyRejection() {
        return upstreamErrorCode != null && CONTENT_POLICY_CODES.contains(upstreamErrorCode);
    }

    /**
     * A short, bounded tag for metrics such as {@code egress_retries_total{reason}}: the failure class
     * ({@code connect_failure}, {@code reset}, {@code timeout}), the provider code for context-length answers,
     * or the status.
     */
    public String metricTag() {
        if (stale) return "stale_connection";
        if (failure != null) {
            if (failure.isConnectPhase()) return "connect_failure";
            if (failure == ErrorCode.UPSTREAM_RESET) return "reset";
            if (failure.isTimeout()) return "timeout";
            return failure.code();
        }
        if (hasUpstreamErrorCode(RetryConditions.CONTEXT_LENGTH_EXCEEDED)) return RetryConditions.CONTEXT_LENGTH_EXCEEDED;
        return Integer.toString(status);
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("AttemptOutcome{");
        sb.append(failure != null ? failure.code() : Integer.toString(status));
        if (upstreamErrorCode != null) sb.append(", code=").append(upstreamErrorCode);
        if (retryAfter != null) sb.append(", retryAfter=").append(retryAfter);
        if (committed) sb.append(", committed");
        else if (responseStarted && failure != null) sb.append(", responseStarted");   // implied by a status
        return sb.append('}').toString();
    }
}
