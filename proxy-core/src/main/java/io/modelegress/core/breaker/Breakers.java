package io.modelegress.core.breaker;

import io.modelegress.core.retry.AttemptOutcome;
import java.util.Collections;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The breakers of one upstream: one for the upstream itself and one per (upstream, model) pair that failed. Eject
 * what failed, not more: a 429/5xx answer for a request's {@code model} is about that model and counts against its
 * pair only (the upstream answered, so the upstream itself is up); a connect-phase failure, a TLS error or a reset
 * counts against the upstream. An answer whose model is not known (no JSON body, no "model") counts against the
 * upstream as before.
 *
 * <p>The request's model is read (through the given supplier) only when needed: at admission when some pair of this
 * upstream has a breaker, and at an outcome that is about a model or when pairs exist. A pair's breaker exists from
 * its first failure until it is closed with nothing counted again; at most {@value #MAX_MODELS} per upstream (model
 * names come from agents), beyond which an answer about a new model counts against the upstream.
 *
 * <p>Driving it: every true {@link #tryAcquire} is followed by exactly one {@link #record}. Thread-safe.
 */
public final class Breakers {
    public static final int MAX_MODELS = 64;
    public static final int MAX_MODEL_LENGTH = 200;

    private final CircuitBreaker upstream;
    private final Function<String, CircuitBreaker> newModelBreaker;
    private final Map<String, CircuitBreaker> models = new ConcurrentHashMap<>();

    /** {@code newModelBreaker}: a breaker for one model, with the upstream's settings (called at most once per pair at a time). */
    public Breakers(CircuitBreaker upstream, Function<String, CircuitBreaker> newModelBreaker) {
        this.upstream = upstream;
        this.newModelBreaker = newModelBreaker;
    }

    public CircuitBreaker upstream() { return upstream; }

    /** The pairs' breakers now, by model (a live read-only view). */
    public Map<String, CircuitBreaker> models() { return Collections.unmodifiableMap(models); }

    /** Whether a request for {@code model} may go to this upstream now; takes a probe slot of each breaker it passes. */
    public boolean tryAcquire(Supplier<String> model) {
        if (!upstream.tryAcquire()) return false;
        if (models.isEmpty()) return true;
        CircuitBreaker m = existing(model);
        if (m == null || m.tryAcquire()) return true;
        upstream.onIgnored(); // the upstream's probe slot, if it gave one, is not used
        return false;
    }

    /** Whether a request for {@code model} would be admitted (a peek: takes no probe slot). */
    public boolean admits(Supplier<String> model) {
        if (upstream.state() == CircuitBreaker.State.OPEN) return false;
        if (models.isEmpty()) return true;
        CircuitBreaker m = existing(model);
        return m == null || m.state() != CircuitBreaker.State.OPEN;
    }

    /** How long until {@code model} may be tried here again (zero when it may now). */
    public java.time.Duration remainingOpen(Supplier<String> model) {
        java.time.Duration d = upstream.remainingOpen();
        if (models.isEmpty()) return d;
        CircuitBreaker m = existing(model);
        if (m == null) return d;
        java.time.Duration pair = m.remainingOpen();
        return pair.compareTo(d) > 0 ? pair : d;
    }

    /** An attempt's outcome ({@code null}: it says nothing about the upstream; a probe slot is freed). */
    public void record(AttemptOutcome o, Supplier<String> model) {
        if (o == null || o.failure().isPresent()) {
            if (o == null) upstream.onIgnored();
            else upstream.onOutcome(o);
            if (!models.isEmpty()) {
                CircuitBreaker m = existing(model);
                if (m != null) m.onIgnored();
            }
            return;
        }
        int status = o.status();
        if (status >= 500 || status == 429) {
            CircuitBreaker m = upstream.isDisabled() ? null : pair(usable(model.get()));
            if (m == null) {
                upstream.onOutcome(o);
                return;
            }
            upstream.onSuccess();
            m.onFailure("status " + status);
            return;
        }
        upstream.onSuccess();
        if (models.isEmpty()) return;
        String name = usable(model.get());
        CircuitBreaker m = name == null ? null : models.get(name);
        if (m == null) return;
        m.onSuccess();
        if (m.isPristine()) models.remove(name, m);
    }

    private CircuitBreaker existing(Supplier<String> model) {
        String name = usable(model.get());
        return name == null ? null : models.get(name);
    }

    /** The pair's breaker, made on its first failure; null when the model is unknown or too many pairs are kept. */
    private CircuitBreaker pair(String model) {
        if (model == null) return null;
        CircuitBreaker m = models.get(model);
        if (m != null || models.size() >= MAX_MODELS) return m;
        return models.computeIfAbsent(model, newModelBreaker);
    }

    private static String usable(String model) {
        return model == null || model.isEmpty() || model.length() > MAX_MODEL_LENGTH ? null : model;
    }
}
