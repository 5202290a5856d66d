package io.modelegress.core.config;

import java.time.Duration;
import java.util.Locale;

/**
 * The keys of MCP tool-server routes (docs/mcp.md): {@code routes[].kind} and the two limits of an MCP event stream,
 * {@code timeouts.mcp_stream_idle} and {@code timeouts.mcp_keepalive} (also under an upstream's or a route's
 * {@code timeouts}). Read here so that {@link ConfigMapper} calls one line per block.
 */
final class McpConfig {
    private McpConfig() {}

    static RouteSettings.Kind kind(Section s) {
        String v = s.string("kind");
        if (v == null || v.equalsIgnoreCase("model")) return RouteSettings.Kind.MODEL;
        if (v.equalsIgnoreCase("mcp")) {
            // Both would send a JSON-RPC message twice: a tool call must run once.
            if (!s.duration("hedge_after").isZero()) s.problem("hedge_after", "set on a kind: mcp route (expected: 0s; a hedge would repeat a tool call)");
            if (!s.sub("resume").strings("on").isEmpty()) s.problem("resume.on", "set on a kind: mcp route (expected: []; a resume would repeat a tool call)");
            return RouteSettings.Kind.MCP;
        }
        s.problem("kind", "\"" + v.toLowerCase(Locale.ROOT) + "\" (expected: model or mcp)");
        return RouteSettings.Kind.MODEL;
    }

    /** {@code base} with the global MCP limits read from {@code s} (the {@code timeouts} block). */
    static Timeouts timeouts(Section s, Timeouts base) {
        Duration idle = streamIdle(s, s.duration("mcp_stream_idle"));
        Duration keepalive = s.duration("mcp_keepalive");
        return new Timeouts(base.dns(), base.connect(), base.proxyConnect(), base.tlsHandshake(), base.responseHeaders(),
                base.firstToken(), base.streamIdle(), base.request(), base.websocketIdle(), idle, keepalive);
    }

    /** {@code base} with the MCP limits an upstream's or a route's {@code timeouts} set (null: inherit). */
    static Timeouts.Overrides overrides(Section s, Timeouts.Overrides base) {
        Duration idle = s.durationOrNull("mcp_stream_idle");
        if (idle != null) streamIdle(s, idle);
        return new Timeouts.Overrides(base.dns(), base.connect(), base.proxyConnect(), base.tlsHandshake(),
                base.responseHeaders(), base.firstToken(), base.streamIdle(), base.request(), base.websocketIdle(), idle,
                s.durationOrNull("mcp_keepalive"));
    }

    private static Duration streamIdle(Section s, Duration d) {
        if (d.isZero()) s.problem("mcp_stream_idle", "0s (expected: a duration > 0, like 30m: an MCP event stream is always bounded)");
        return d;
    }
}
