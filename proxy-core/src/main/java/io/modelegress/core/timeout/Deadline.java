package io.modelegress.core.timeout;

import io.modelegress.core.error.EgressException;
import io.modelegress.core.error.ErrorCode;
import io.modelegress.core.time.Durations;
import io.modelegress.core.time.Ticker;
import java.time.Duration;

/**
 * The whole-request deadline (queueing plus every attempt). Each phase's limit is capped by what is left of it,
 * and {@link #limitFor} says which of the two fired so errors can name the right setting.
 */
public final class Deadline {
    private final Ticker ticker;
    private final long startNanos;
    private final long budgetNanos;
    private final String source;

    public Deadline(Ticker ticker, Duration budget, String source) {
        this.ticker = ticker;
        this.startNanos = ticker.nanos();
        this.budgetNanos = budget.toNanos();
        this.source = source;
    }

    public long remainingNanos() {
        return Math.max(0, budgetNanos - (ticker.nanos() - startNanos));
    }

    public boolean expired() { return remainingNanos() == 0; }

    public long elapsedNanos() { return ticker.nanos() - startNanos; }

    public Duration budget() { return Duration.ofNanos(budgetNanos); }

    /** What set the deadline: "timeouts.request" or "x-egress-timeout" or the SDK's header. */
    public String source() { return source; }

    /** A phase limit capped by the remaining deadline; a zero phase (off) is the remaining deadline itself. */
    public Limit limitFor(Duration phase, String phaseKey) {
        long remaining = remainingNanos();
        long p = phase.toNanos();
        if (p > 0 && p <= remaining) return new Limit(p, phaseKey, phase);
        return new Limit(remaining, source, budget());
    }

    /**
     * The error for a phase limit that fired: named after the phase ({@code phaseCode}, its key and value), or the
     * whole deadline when that was the tighter one. {@code what} says what did not happen ("upstream x sent nothing").
     */
    public EgressException exceeded(ErrorCode phaseCode, Limit l, String what) {
        if (l.isDeadline()) {
            return new EgressException(ErrorCode.REQUEST_DEADLINE_EXCEEDED, what + " before the request deadline of "
                    + Durations.format(budget()) + " (" + source + ") ran out");
        }
        return new EgressException(phaseCode, what + " within " + Durations.format(l.configured()) + " (" + l.key() + ")");
    }

    /** A limit that fires after {@code nanos}; {@code key} names the setting, {@code configured} its value. */
    public record Limit(long nanos, String key, Duration configured) {
        public boolean isDeadline() { return !key.startsWith("timeouts.") || key.equals("timeouts.request"); }
    }
}
