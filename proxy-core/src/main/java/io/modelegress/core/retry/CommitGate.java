package io.modelegress.core.retry;

/**
 * Where a response's commit point lies: the moment something goes to the agent, after which nothing can be retried
 * or answered with a clean error. Until then the response is held, so the retry policy can still read it:
 * <ul>
 *   <li>an error answer (status &ge; 400 with a body) is held whole, up to {@code maxErrorBytes}, so the provider's
 *       error code and {@code retry-after} can be read ({@link Step#JUDGE} at its last byte); a larger one is
 *       committed as it stands;</li>
 *   <li>an event stream is held until its first data-carrying event (comments and pings are not), so an in-band
 *       error or a first-token timeout can still be answered cleanly ({@link Step#JUDGE} at that event); past
 *       {@code maxUncommittedBytes} it is committed as it stands;</li>
 *   <li>anything else is committed at its head.</li>
 * </ul>
 * A pure value machine, one per response; the server writes what it held when told {@link Step#COMMIT} or when a
 * {@link Step#JUDGE} ends without a retry.
 */
public final class CommitGate {
    /** What the response is held for. */
    public enum Hold { NOTHING, ERROR_BODY, FIRST_EVENT }

    /** What to do with a piece of the body that just arrived. */
    public enum Step {
        /** Keep it with what is held. */
        HOLD,
        /** Write what is held and this piece: the response is committed (or already was). */
        COMMIT,
        /** What is held is complete: ask the retry policy; commit everything if it does not retry. */
        JUDGE
    }

    private final Hold hold;
    private final long limit;
    private long held;
    private boolean open;

    private CommitGate(Hold hold, long limit) {
        this.hold = hold;
        this.limit = limit;
        this.open = hold == Hold.NOTHING;
    }

    /**
     * @param bodiless a response that has no body (204, 304, an answer to HEAD)
     * @param sse      an uncompressed {@code text/event-stream}
     */
    public static CommitGate forResponse(int status, boolean bodiless, boolean sse, long maxErrorBytes,
                                         long maxUncommittedBytes) {
        if (status >= 400 && !bodiless) return new CommitGate(Hold.ERROR_BODY, maxErrorBytes);
        if (sse && status < 400) return new CommitGate(Hold.FIRST_EVENT, maxUncommittedBytes);
        return new CommitGate(Hold.NOTHING, 0);
    }

    public Hold hold() { return hold; }

    /** True while nothing may go to the agent yet. */
    public boolean holding() { return !open; }

    /**
     * @param bytes     the piece's size
     * @param dataEvent the piece completed at least one data-carrying event (streams)
     * @param last      the piece ends the body
     */
    public Step onContent(long bytes, boolean dataEvent, boolean last) {
        if (open) return Step.COMMIT;
        held += bytes;
        boolean complete = hold == Hold.ERROR_BODY ? last : dataEvent || last;
        if (complete) {
            open = true;
            return Step.JUDGE;
        }
        if (held > limit) {
            open = true;
            return Step.COMMIT;
        }
        return Step.HOLD;
    }
}
