package io.modelegress.server.upstream;

import io.modelegress.core.proxy.ProxyStep;
import java.util.List;

/**
 * The proxies one upstream connection may go through, in order: one leg for a single proxy or direct, several for a
 * failover list ({@code proxy.https: [a, b]}, a PAC answer {@code PROXY a; PROXY b; DIRECT}). {@code reason} says
 * which setting, variable or PAC line decided.
 */
public record ProxyRoute(List<Leg> legs, String reason) {
    /** {@code hop} null: DIRECT. */
    public record Leg(ProxyHop hop, ProxyStep step) {
        /** The metric label: scheme://host:port (never credentials) or DIRECT. */
        public String label() {
            return hop == null ? "DIRECT" : hop.scheme() + "://" + hop.address();
        }
    }

    public ProxyRoute {
        legs = List.copyOf(legs);
        if (legs.isEmpty()) throw new IllegalArgumentException("legs: empty (expected: at least one proxy or DIRECT)");
    }

    public boolean isFailover() { return legs.size() > 1; }

    public ProxyHop first() { return legs.get(0).hop(); }
}
