package io.modelegress.server.upstream;

import io.modelegress.core.ratelimit.Permit;
import io.modelegress.core.ratelimit.TokenCount;
import io.modelegress.core.retry.AttemptOutcome;

/**
 * The books one attempt keeps with the shared state of its upstream: the retry budget's live count (and the retry
 * permit it was lent, if any), the breaker's outcome, the limiter's permit. Opened once, closed exactly once.
 */
final class AttemptBooks {
    private final UpstreamState upstream;
    private final boolean carriesRetryPermit;
    private boolean open;
    private Permit permit;

    AttemptBooks(UpstreamState upstream, boolean carriesRetryPermit) {
        this.upstream = upstream;
        this.carriesRetryPermit = carriesRetryPermit;
    }

    void open() {
        open = true;
        upstream.budget.onRequestStart();
    }

    boolean isOpen() { return open; }

    void granted(Permit p) { permit = p; }

    /** Limiter permit (with the usage the answer reported), retry budget, breaker ({@code o} null: not counted). */
    void close(AttemptOutcome o, TokenCount usage) {
        if (permit != null) {
            permit.release(usage);
            permit = null;
        }
        if (!open) return;
        open = false;
        upstream.budget.onRequestEnd();
        if (carriesRetryPermit) upstream.budget.onRetryEnd();
        if (o == null) upstream.breaker.onIgnored();
        else upstream.breaker.onOutcome(o);
    }
}
