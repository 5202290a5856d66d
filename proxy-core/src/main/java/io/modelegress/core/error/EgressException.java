package io.modelegress.core.error;

import java.time.Duration;
import java.util.Objects;

/**
 * A classified failure: the catalogue code plus a message naming the host, the proxy (masked) and the limit that fired.
 * Carries no stack trace: it is an expected outcome, not a bug.
 */
public final class EgressException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final ErrorCode code;
    private final Duration retryAfter;
    private final boolean shouldRetry;

    public EgressException(ErrorCode code, String message) {
        this(code, message, null, null);
    }

    public EgressException(ErrorCode code, String message, Duration retryAfter, Throwable cause) {
        this(code, message, retryAfter, cause, code.retryable());
    }

    private EgressException(ErrorCode code, String message, Duration retryAfter, Throwable cause, boolean shouldRetry) {
        super(message, cause, false, false);
        this.code = Objects.requireNonNull(code, "code");
        this.retryAfter = retryAfter;
        this.shouldRetry = shouldRetry;
    }

    /** Whether another try by the agent can help ({@code x-should-retry}); false once the budget or deadline is spent. */
    public boolean shouldRetry() { return shouldRetry; }

    /** The same failure, marked so the agent's SDK does not try again (retry budget spent, deadline gone). */
    public EgressException withoutRetry(String why) {
        return new EgressException(code, getMessage() + " (" + why + ")", null, getCause(), false);
    }

    /** The same failure, its message saying why more (a reason the sidecar did not try elsewhere). */
    public EgressException because(String why) {
        return new EgressException(code, getMessage() + " (" + why + ")", retryAfter, getCause(), shouldRetry);
    }

    public ErrorCode code() { return code; }

    /** When the agent may come back, or null when unknown / not applicable. */
    public Duration retryAfter() { return retryAfter; }

    /** The message the agent and the operator read: what happened, then what to check. */
    public String describe() {
        String m = getMessage();
        return m == null || m.isEmpty() ? code.hint() : m + "; " + code.hint();
    }
}
