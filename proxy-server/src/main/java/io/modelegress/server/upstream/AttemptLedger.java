package io.modelegress.server.upstream;

import io.modelegress.core.ratelimit.Permit;
import io.modelegress.core.ratelimit.TokenCount;
import io.modelegress.core.retry.AttemptOutcome;

/**
 * The books one exchange keeps with the shared state of the upstream its current attempt runs against: the retry
 * budget's live count and retry permits, the breaker's outcome, and the limiter's permit. Every attempt that was
 * begun is ended exactly once; a retry permit granted for an attempt that never started is given back.
 */
final class AttemptLedger {
    private UpstreamState current;
    private boolean open;
    private boolean retryPermit;
    private boolean pendingRetryPermit;
    private Permit permit;

    UpstreamState current() { return current; }

    boolean isOpen() { return open; }

    boolean hasPermit() { return permit != null; }

    void begin(UpstreamState state) {
        current = state;
        state.budget.onRequestStart();
        open = true;
        retryPermit = pendingRetryPermit;
        pendingRetryPermit = false;
    }

    void granted(Permit p) { permit = p; }

    /** The policy took a budget permit for a retry of the same upstream; the next attempt carries it. */
    void retryPermitted() { pendingRetryPermit = true; }

    /** Closes the attempt: limiter permit (with the usage the response reported), budget, breaker ({@code o} null: ignored). */
    void end(AttemptOutcome o, TokenCount usage) {
        if (permit != null) {
            permit.release(usage);
            permit = null;
        }
        if (!open) return;
        open = false;
        current.budget.onRequestEnd();
        if (retryPermit) {
            current.budget.onRetryEnd();
            retryPermit = false;
        }
        if (o == null) current.breaker.onIgnored();
        else current.breaker.onOutcome(o);
    }

    /** The exchange ended while a granted retry waited to start: give its budget permit back. */
    void abandonPendingRetry() {
        if (pendingRetryPermit && current != null) {
            current.budget.onRetryEnd();
            pendingRetryPermit = false;
        }
    }
}
