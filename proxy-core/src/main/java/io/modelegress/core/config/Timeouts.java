package io.modelegress.core.config;

import java.time.Duration;

/**
 * The layered timeouts of one (route, upstream) pair. {@link Duration#ZERO} means "off" (only for
 * {@code first_token}); every other phase is bounded. See docs/timeouts.md.
 */
public record Timeouts(Duration dns, Duration connect, Duration proxyConnect, Duration tlsHandshake,
                       Duration responseHeaders, Duration firstToken, Duration streamIdle, Duration request,
                       Duration websocketIdle, Duration mcpStreamIdle, Duration mcpKeepalive) {
    /** Without the WebSocket and MCP event-stream limits (their reference.conf defaults). */
    public Timeouts(Duration dns, Duration connect, Duration proxyConnect, Duration tlsHandshake,
                    Duration responseHeaders, Duration firstToken, Duration streamIdle, Duration request) {
        this(dns, connect, proxyConnect, tlsHandshake, responseHeaders, firstToken, streamIdle, request,
                Duration.ofSeconds(300), Duration.ofMinutes(30), Duration.ofSeconds(15));
    }

    /** This set with the non-null values of {@code o} on top. */
    public Timeouts with(Overrides o) {
        if (o == null || o.isEmpty()) return this;
        return new Timeouts(or(o.dns, dns), or(o.connect, connect), or(o.proxyConnect, proxyConnect),
                or(o.tlsHandshake, tlsHandshake), or(o.responseHeaders, responseHeaders),
                or(o.firstToken, firstToken), or(o.streamIdle, streamIdle), or(o.request, request),
                or(o.websocketIdle, websocketIdle), or(o.mcpStreamIdle, mcpStreamIdle), or(o.mcpKeepalive, mcpKeepalive));
    }

    private static Duration or(Duration a, Duration b) { return a != null ? a : b; }

    /** Per-upstream or per-route overrides; null = inherit. */
    public record Overrides(Duration dns, Duration connect, Duration proxyConnect, Duration tlsHandshake,
                            Duration responseHeaders, Duration firstToken, Duration streamIdle, Duration request,
                            Duration websocketIdle, Duration mcpStreamIdle, Duration mcpKeepalive) {
        public static final Overrides NONE = new Overrides(null, null, null, null, null, null, null, null, null, null, null);

        public Overrides(Duration dns, Duration connect, Duration proxyConnect, Duration tlsHandshake,
                         Duration responseHeaders, Duration firstToken, Duration streamIdle, Duration request) {
            this(dns, connect, proxyConnect, tlsHandshake, responseHeaders, firstToken, streamIdle, request, null, null, null);
        }

        /** Field by field: this runs per request (the record's own equals went through its bootstrap method). */
        public boolean isEmpty() {
            return dns == null && connect == null && proxyConnect == null && tlsHandshake == null && responseHeaders == null
                    && firstToken == null && streamIdle == null && request == null && websocketIdle == null
                    && mcpStreamIdle == null && mcpKeepalive == null;
        }
    }
}
