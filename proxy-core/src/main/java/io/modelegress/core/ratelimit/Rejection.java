package io.modelegress.core.ratelimit;

import io.modelegress.core.error.EgressException;
import io.modelegress.core.error.ErrorCode;
import java.time.Duration;
import java.util.Objects;

/**
 * Why a request may not start, and when the agent should come back.
 *
 * @param retryAfter the estimated wait until a start would be possible; at least {@link #MIN_RETRY_AFTER}
 * @param queueWait how long the request waited before this answer (zero when rejected on arrival)
 * @param message names the upstream and the limit that fired
 */
public record Rejection(Reason reason, Duration retryAfter, Duration queueWait, String message) {
    /** A floor, so that a crowd of agents cannot spin on us when the estimate is near zero or unknown. */
    public static final Duration MIN_RETRY_AFTER = Duration.ofSeconds(1);

    public enum Reason {
        /** {@code max_queue} requests are already waiting. */
        QUEUE_FULL("queue_full"),
        /** The estimated (or, for a waiter that expired, the real) wait exceeds max_queue_wait or the deadline. */
        WAIT_EXCEEDS_LIMIT("wait_exceeds_limit");

        private final String tag;

        Reason(String tag) { this.tag = tag; }

        /** For metrics and the access log. */
        public String tag() { return tag; }
    }

    public Rejection {
        Objects.requireNonNull(reason, "reason");
        Objects.requireNonNull(queueWait, "queueWait");
        Objects.requireNonNull(message, "message");
        retryAfter = retryAfter == null || retryAfter.compareTo(MIN_RETRY_AFTER) < 0 ? MIN_RETRY_AFTER : retryAfter;
    }

    /** The {@code retry-after} header value: whole seconds, rounded up. */
    public long retryAfterSeconds() {
        long seconds = retryAfter.getSeconds();
        return retryAfter.getNano() > 0 ? seconds + 1 : seconds;
    }

    /** The {@code retry-after-ms} header value: milliseconds, rounded up. */
    public long retryAfterMillis() {
        long millis = retryAfter.toMillis();
        return retryAfter.minusMillis(millis).isZero() ? millis : millis + 1;
    }

    /** The catalogue error the server renders: 429 {@code rate_limited}, retryable. */
    public EgressException toException() {
        return new EgressException(ErrorCode.RATE_LIMITED, message, retryAfter, null);
    }
}
