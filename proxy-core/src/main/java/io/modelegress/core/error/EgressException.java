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

    public EgressException(ErrorCode code, String message) {
        this(code, message, null, null);
    }

    public EgressException(ErrorCode code, String message, Duration retryAfter, Throwable cause) {
        super(message, cause, false, false);
        this.code = Objects.requireNonNull(code, "code");
        this.retryAfter = retryAfter;
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
