package io.modelegress.server.upstream;

import io.modelegress.core.ratelimit.Permit;
import io.modelegress.core.ratelimit.TokenCount;
import io.modelegress.core.retry.AttemptOutcome;
import java.util.function.Supplier;

/**
 * The books one attempt keeps with the shared state of its upstream: the retry budget's live count (and the retry
 * permit it was lent, if any), the breaker's outcome, the limiter's permit. Opened once, closed exactly once.
 */
final class AttemptBooks {
    private final UpstreamState upstream;
    private final boolean carriesRetryPermit;
    private final Supplier<String> model;
    private boolean open;
    private Permit permit;

    AttemptBooks(UpstreamState upstream, boolean carriesRetryPermit) {
        this(upstream, carriesRetryPermit, () -> null);
    }

    /** {@code model}: the request's model on this upstream, read only when a breaker needs it. */
    AttemptBooks(UpstreamState upstream, boolean carriesRetryPermit, Supplier<String> model) {
        this.upstream = upstream;
        this.carriesRetryPermit = carriesRetryPermit;
        this.model = model;
    }

    void open() {
        open = true;
        upstream.budget.onRequestStart();
    }

    boolean isOpen() { return open; }

    void granted(Permit p) { permit = p; }

    /** Limiter permit (with the usage the answer reported), retry budget, breakers ({@code o} null: not counted). */
    void close(AttemptOutcome o, TokenCount usage) {
        if (permit != null) {
            permit.release(usage);
            permit = null;
        }
        if (!open) return;
        open = false;
        upstream.budget.onRequestEnd();
        if (carriesRetryPermit) upstream.budget.onRetryEnd();
        upstream.breakers.record(o, model); // an answer about the model to its pair, the rest to the upstream
    }
}
