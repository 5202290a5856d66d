package io.modelegress.core.ratelimit;

/**
 * How long a request can expect to wait for its start, and the limit responsible: the operator reads the
 * latter in the rejection message.
 */
record WaitEstimate(long nanos, String limit) {
    static final WaitEstimate NONE = new WaitEstimate(0, "none");

    /** The longer of the two waits: every limit must allow the start. */
    WaitEstimate max(long otherNanos, String otherLimit) {
        return otherNanos > nanos ? new WaitEstimate(otherNanos, otherLimit) : this;
    }
}
