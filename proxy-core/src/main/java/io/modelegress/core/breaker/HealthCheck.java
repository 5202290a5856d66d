package io.modelegress.core.breaker;

import io.modelegress.core.config.HealthSettings;

/**
 * The active health check's verdict over its probes: {@code healthy_after} passes in a row and the upstream is
 * healthy again; any other answer (or none) starts the count over. Not thread-safe: one prober drives it.
 */
public final class HealthCheck {
    private final HealthSettings settings;
    private int passes;

    public HealthCheck(HealthSettings settings) {
        this.settings = settings;
    }

    /** A probe answered {@code status} (0: it failed before an answer). True when the upstream is healthy again. */
    public boolean onProbe(int status) {
        if (!settings.accepts(status)) {
            passes = 0;
            return false;
        }
        if (++passes < settings.healthyAfter()) return false;
        passes = 0;
        return true;
    }

    /** The upstream came back another way (a request's probe): the next ejection starts a new count. */
    public void reset() { passes = 0; }

    public int passes() { return passes; }
}
