package io.modelegress.server.admin;

import io.modelegress.core.breaker.CircuitBreaker;
import io.modelegress.server.runtime.EgressRuntime;
import io.modelegress.server.upstream.UpstreamState;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * /debug/breakers: every upstream's own breaker, and every (upstream, model) pair that is ejected or counting
 * failures — its state, what ejected it, since when, and when it is probed next (by the health check, or by the
 * first request after the cooldown).
 */
final class BreakersView {
    private BreakersView() {}

    static Map<String, Object> of(EgressRuntime rt) {
        List<Map<String, Object>> rows = new ArrayList<>();
        long now = rt.ticker().nanos();
        long wall = rt.ticker().wallMillis();
        for (Map.Entry<String, UpstreamState> e : new java.util.TreeMap<>(rt.upstreams()).entrySet()) {
            UpstreamState u = e.getValue();
            long healthProbe = rt.health().nextProbeNanos(e.getKey());
            rows.add(row(e.getKey(), null, u.breaker, healthProbe, now, wall));
            for (Map.Entry<String, CircuitBreaker> m : new java.util.TreeMap<>(u.breakers.models()).entrySet()) {
                rows.add(row(e.getKey(), m.getKey(), m.getValue(), -1, now, wall));
            }
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("breakers", rows);
        return out;
    }

    private static Map<String, Object> row(String upstream, String model, CircuitBreaker b, long healthProbe, long now, long wall) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("upstream", upstream);
        r.put("model", model);
        boolean ejected = b.isEjected();
        r.put("state", (ejected ? b.state() : CircuitBreaker.State.CLOSED).name().toLowerCase(Locale.ROOT));
        r.put("reason", ejected ? b.reason() : null);
        r.put("since", ejected ? at(b.openedNanos(), now, wall) : null);
        r.put("ejections_in_a_row", b.consecutiveEjections());
        if (!ejected) {
            r.put("next_probe", null);
            r.put("next_probe_by", null);
        } else if (healthProbe >= 0) {
            r.put("next_probe", at(healthProbe, now, wall));
            r.put("next_probe_by", "health_check");
        } else {
            r.put("next_probe", at(Math.max(b.openUntilNanos(), now), now, wall));
            r.put("next_probe_by", "request");
        }
        return r;
    }

    /** A ticker time as a wall-clock instant. */
    private static String at(long nanos, long now, long wall) {
        return Instant.ofEpochMilli(wall + (nanos - now) / 1_000_000).toString();
    }
}
