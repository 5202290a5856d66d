package io.modelegress.core.route;

import java.util.List;

/**
 * Agent request headers that never reach an upstream as sent (docs/configuration.md, "Agent headers"), on top of
 * hop-by-hop headers and each route's {@code strip_request_headers}.
 */
public final class AgentHeaders {
    /**
     * Where the agent puts its (usually dummy) key: dropped whenever the upstream injects its own credential. On an
     * upstream without one they pass, because there they are the agent's own credential.
     */
    public static final List<String> CREDENTIALS = List.of("authorization", "x-api-key", "api-key", "x-goog-api-key");

    /**
     * Dropped on every route. A cookie jar keys cookies by the sidecar's address, which fronts every upstream, so a
     * cookie the agent sends may have been set by any of them; no model API authenticates by cookie.
     * {@code proxy-authorization} is for the hop to us, never for the upstream (also hop-by-hop).
     */
    public static final List<String> ALWAYS = List.of("cookie", "proxy-authorization");

    private AgentHeaders() {}

    /** RFC 9110 token characters: what a header name may be made of. */
    public static boolean isHeaderName(String name) {
        if (name == null || name.isEmpty()) return false;
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            boolean ok = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
                    || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
            if (!ok) return false;
        }
        return true;
    }
}
