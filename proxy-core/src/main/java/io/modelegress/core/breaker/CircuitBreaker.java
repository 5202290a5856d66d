package io.modelegress.core.breaker;

import io.modelegress.core.config.BreakerSettings;
import io.modelegress.core.error.ErrorCode;
import io.modelegress.core.retry.AttemptOutcome;
import io.modelegress.core.time.Ticker;

import java.time.Duration;
import java.util.Objects;

/**
 * Ejects one upstream after {@code consecutive_failures} failures in a row, so requests go to the route's next
 * upstream (or get {@code upstream_unavailable}) instead of waiting on a dead one.
 *
 * <ul>
 *   <li><b>CLOSED</b>: every request passes. A failure (connect-phase failure or 5xx answer) adds to a run of
 *       consecutive failures, any answer below 500 ends the run.</li>
 *   <li><b>OPEN</b>: nothing passes for the cooldown: {@code cooldown × n} for the n-th ejection in a row, at most
 *       {@value #MAX_COOLDOWN_MULTIPLIER}× and at most {@code max_cooldown} (Envoy's outlier ejection grows the same
 *       way), so a flapping upstream is probed less often, but a recovered one is never left out for long. An active
 *       health check may end it early ({@link #onHealthy()}).</li>
 *   <li><b>HALF_OPEN</b>: after the cooldown, exactly one request (the probe) passes. Success closes the breaker and
 *       forgets the ejections; failure opens it again with the next, longer cooldown.</li>
 * </ul>
 *
 * <p>{@code consecutive_failures: 0} turns the breaker off: it never opens, and every call is a volatile read.
 *
 * <p>Driving it: call {@link #tryAcquire()} before an attempt; every {@code true} must be followed by exactly one of
 * {@link #onSuccess()}, {@link #onFailure()}, {@link #onIgnored()} (or {@link #onOutcome(AttemptOutcome)}), on
 * every exit path. As a safety net against a lost report (Resilience4j #903: a breaker stuck half-open), a probe
 * that has not reported within the current cooldown is presumed lost and another one is let through.
 * Results that arrive while OPEN came from requests admitted before the ejection and are ignored; in HALF_OPEN they
 * cannot be told from the probe's and are taken as its result.
 *
 * <p>Thread-safe: the CLOSED fast path is a volatile read; transitions are short synchronized blocks. The listener
 * runs after the lock is released, so it must be cheap and must not throw; with concurrent transitions it may see
 * them out of order, so gauges should read {@link #state()} rather than count events.
 */
public final class CircuitBreaker {
    public enum State { CLOSED, OPEN, HALF_OPEN }

    /** Told of every transition, e.g. to log ejections or bump {@code egress_breaker_open}. */
    @FunctionalInterface
    public interface Listener {
        void onStateChange(State from, State to);

        Listener NONE = (from, to) -> {};
    }

    /** The longest cooldown, as a multiple of the configured one. */
    public static final int MAX_COOLDOWN_MULTIPLIER = 10;

    private final int failureThreshold;
    private final long cooldownNanos;
    private final long maxCooldownNanos;
    private final Ticker ticker;
    private final Listener listener;

    // Written only under the lock; volatile so the fast paths and state() can read without it.
    private volatile State state = State.CLOSED;
    private volatile int consecutiveFailures;
    private volatile long openUntilNanos;
    // Guarded by this.
    private int consecutiveEjections;
    private long currentCooldownNanos;
    private boolean probeInFlight;
    private long probeStartedNanos;
    // Written under the lock, read by /debug/breakers without it.
    private volatile String reason;
    private volatile long openedNanos;

    private CircuitBreaker(int failureThreshold, long cooldownNanos, long maxCooldownNanos, Ticker ticker, Listener listener) {
        this.failureThreshold = failureThreshold;
        this.cooldownNanos = cooldownNanos;
        this.maxCooldownNanos = maxCooldownNanos;
        this.ticker = ticker;
        this.listener = listener;
    }

    public static CircuitBreaker of(int consecutiveFailures, Duration cooldown, Ticker ticker) {
        return of(consecutiveFailures, cooldown, ticker, Listener.NONE);
    }

    /** An upstream's {@code breaker} block. */
    public static CircuitBreaker from(BreakerSettings settings, Ticker ticker, Listener listener) {
        return of(settings.consecutiveFailures(), settings.cooldown(), settings.maxCooldown(), ticker, listener);
    }

    /** As {@link #of(int, Duration, Duration, Ticker, Listener)} with no cap but {@value #MAX_COOLDOWN_MULTIPLIER}× the cooldown. */
    public static CircuitBreaker of(int consecutiveFailures, Duration cooldown, Ticker ticker, Listener listener) {
        return of(consecutiveFailures, cooldown, null, ticker, listener);
    }

    /**
     * {@code upstreams.<name>.breaker}: {@code consecutive_failures >= 0} (0 = off), {@code cooldown > 0} when on,
     * {@code max_cooldown >= cooldown} (null: {@value #MAX_COOLDOWN_MULTIPLIER}× the cooldown); checked by
     * {@code BreakerLimits}.
     */
    public static CircuitBreaker of(int consecutiveFailures, Duration cooldown, Duration maxCooldown, Ticker ticker,
                                    Listener listener) {
        Objects.requireNonNull(ticker, "ticker");
        Objects.requireNonNull(listener, "listener");
        BreakerLimits l = BreakerLimits.of(consecutiveFailures, cooldown, maxCooldown);
        return new CircuitBreaker(l.failureThreshold(), l.cooldownNanos(), l.maxCooldownNanos(), ticker, listener);
    }

    /** Whether a request may go to this upstream now; see the class comment for the obligation a true brings. */
    public boolean tryAcquire() {
        if (state == State.CLOSED) return true;
        State from;
        synchronized (this) {
            from = state;
            long now = ticker.nanos();
            switch (from) {
                case CLOSED:
                    return true;
                case OPEN:
                    if (now - openUntilNanos < 0) return false;
                    state = State.HALF_OPEN;
                    break;
                default:
                    if (probeInFlight && now - probeStartedNanos < currentCooldownNanos) return false;
                    break;
            }
            probeInFlight = true;
            probeStartedNanos = now;
        }
        if (from != State.HALF_OPEN) listener.onStateChange(from, State.HALF_OPEN);
        return true;
    }

    /** The upstream answered (any status below 500): it is alive. */
    public void onSuccess() {
        if (state == State.CLOSED && consecutiveFailures == 0) return;
        synchronized (this) {
            switch (state) {
                case CLOSED:
                    consecutiveFailures = 0;
                    return;
                case OPEN:
                    return;
                default:
                    state = State.CLOSED;
                    consecutiveFailures = 0;
                    consecutiveEjections = 0;
                    probeInFlight = false;
            }
        }
        listener.onStateChange(State.HALF_OPEN, State.CLOSED);
    }

    /** The upstream could not be reached or answered 5xx. */
    public void onFailure() { onFailure("failure"); }

    /** A failure; {@code why} (an error code or "status 503", never a secret) is shown by /debug/breakers. */
    public void onFailure(String why) {
        if (failureThreshold == 0) return;   // off
        State from;
        synchronized (this) {
            from = state;
            if (from == State.OPEN) return;
            if (from == State.CLOSED && ++consecutiveFailures < failureThreshold) return;
            reason = why;
            open(ticker.nanos());
        }
        listener.onStateChange(from, State.OPEN);
    }

    /**
     * An active health check passed: the breaker closes at once, without waiting for its cooldown, and forgets its
     * ejections. False when it was not ejected.
     */
    public boolean onHealthy() {
        State from;
        synchronized (this) {
            from = state;
            if (from == State.CLOSED) return false;
            state = State.CLOSED;
            consecutiveFailures = 0;
            consecutiveEjections = 0;
            probeInFlight = false;
        }
        listener.onStateChange(from, State.CLOSED);
        return true;
    }

    /** Whether the breaker is OPEN or HALF_OPEN (not yet closed by a probe), cooldown over or not. */
    public boolean isEjected() { return state != State.CLOSED; }

    /** Whether the breaker is CLOSED with no failures counted: nothing to remember about it. */
    public boolean isPristine() { return state == State.CLOSED && consecutiveFailures == 0; }

    /** What ejected it last (shown while ejected). */
    public String reason() { return reason; }

    /** The ticker time of the last ejection (meaningful while ejected). */
    public long openedNanos() { return openedNanos; }

    /** The ticker time from which a request may probe it (meaningful while ejected). */
    public long openUntilNanos() { return openUntilNanos; }

    /** The attempt says nothing about the upstream's health (timeout, reset, agent gone); frees a probe slot. */
    public void onIgnored() {
        if (state != State.HALF_OPEN) return;
        synchronized (this) {
            if (state == State.HALF_OPEN) probeInFlight = false;
        }
    }

    /**
     * Records an attempt's outcome: connect-phase failures (TLS included), resets and 5xx answers are failures, other
     * answers successes. Timeouts are neither: a slow model is not a dead one. A reset counts since a stale pooled
     * connection closed under us is replaced before it becomes an outcome; one on a fresh connection is the upstream's.
     * {@link Breakers} splits answers about one model off to that model's breaker before they come here.
     */
    public void onOutcome(AttemptOutcome outcome) {
        ErrorCode failure = outcome.failure().orElse(null);
        if (failure != null) {
            if (countsAgainstUpstream(failure)) onFailure(failure.code());
            else onIgnored();
        } else if (outcome.status() >= 500) {
            onFailure("status " + outcome.status());
        } else {
            onSuccess();
        }
    }

    /** Failures that say the upstream itself (not one model) is unreachable: connect phase, TLS, reset. */
    public static boolean countsAgainstUpstream(ErrorCode failure) {
        return failure.isConnectPhase() || failure == ErrorCode.UPSTREAM_RESET;
    }

    /**
     * The state as seen from outside: an OPEN breaker whose cooldown has ended reads HALF_OPEN, since the next
     * request will probe. For the {@code egress_breaker_open{upstream}} gauge: 1 when this returns OPEN.
     */
    public State state() {
        State s = state;
        if (s == State.OPEN && ticker.nanos() - openUntilNanos >= 0) return State.HALF_OPEN;
        return s;
    }

    /** Time until a probe may go out; zero unless OPEN. For the {@code retry-after} of {@code upstream_unavailable}. */
    public Duration remainingOpen() {
        if (state != State.OPEN) return Duration.ZERO;
        return Duration.ofNanos(Math.max(0, openUntilNanos - ticker.nanos()));
    }

    /**
     * Another replica ejected this upstream for {@code duration} ({@code cluster.share_ejections}): nothing passes
     * until then, as after our own ejection, but without counting an ejection of ours (the cooldown does not grow)
     * and without telling the listener (which would publish it back). Never shortens a longer ejection; returns
     * whether it ejected.
     */
    public boolean ejectFor(Duration duration) {
        if (failureThreshold == 0 || duration.isNegative() || duration.isZero()) return false;
        synchronized (this) {
            long until = ticker.nanos() + duration.toNanos();
            if (state == State.OPEN && until - openUntilNanos <= 0) return false;
            if (state != State.OPEN) currentCooldownNanos = Math.max(currentCooldownNanos, cooldownNanos);
            openUntilNanos = until;
            consecutiveFailures = 0;
            probeInFlight = false;
            state = State.OPEN;
            return true;
        }
    }

    /** Whether {@code consecutive_failures} is 0: the breaker never opens. */
    public boolean isDisabled() { return failureThreshold == 0; }

    /** Ejections in a row without a successful probe in between. */
    public synchronized int consecutiveEjections() { return consecutiveEjections; }

    // Caller holds the lock.
    private void open(long now) {
        if (consecutiveEjections < Integer.MAX_VALUE) consecutiveEjections++;
        currentCooldownNanos = Math.min(cooldownNanos * Math.min(consecutiveEjections, MAX_COOLDOWN_MULTIPLIER), maxCooldownNanos);
        openedNanos = now;
        openUntilNanos = now + currentCooldownNanos;
        consecutiveFailures = 0;
        probeInFlight = false;
        state = State.OPEN;
    }

    @Override
    public String toString() {
        return "CircuitBreaker{" + state() + ", consecutiveFailures=" + consecutiveFailures
                + ", threshold=" + failureThreshold + ", cooldown=" + Duration.ofNanos(cooldownNanos) + '}';
    }
}
