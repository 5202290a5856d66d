package io.modelegress.core.config;

import java.util.List;

/**
 * One route: which requests (path prefix, optionally models) go to which upstreams, in order.
 * {@code stripRequestHeaders}: agent headers (lower case) never forwarded on this route, on top of the built-in list.
 * {@code resume}: mid-stream resume of a committed stream that broke ({@link ResumeSettings#OFF} by default).
 * {@code websocket}: a WebSocket upgrade on this route is passed through to the upstream (Realtime); false: refused.
 * {@code kind}: what the route carries ({@link Kind#MODEL} by default; {@link Kind#MCP}: docs/mcp.md).
 */
public record RouteSettings(String name, String prefix, boolean stripPrefix, List<String> models,
                            List<RouteTarget> upstreams, List<String> fallbackOn, Dialect dialect,
                            Timeouts.Overrides timeouts, RetrySettings retry, List<String> stripRequestHeaders,
                            java.time.Duration hedgeAfter, ResumeSettings resume,
                            boolean websocket, Kind kind) {
    public RouteSettings {
        kind = kind == null ? Kind.MODEL : kind;
        models = List.copyOf(models);
        upstreams = List.copyOf(upstreams);
        fallbackOn = List.copyOf(fallbackOn);
        stripRequestHeaders = List.copyOf(stripRequestHeaders);
    }

    /** A model route without WebSocket passthrough. */
    public RouteSettings(String name, String prefix, boolean stripPrefix, List<String> models, List<RouteTarget> upstreams,
                         List<String> fallbackOn, Dialect dialect, Timeouts.Overrides timeouts, RetrySettings retry,
                         List<String> stripRequestHeaders, java.time.Duration hedgeAfter, ResumeSettings resume) {
        this(name, prefix, stripPrefix, models, upstreams, fallbackOn, dialect, timeouts, retry, stripRequestHeaders,
                hedgeAfter, resume, false, Kind.MODEL);
    }

    /** Without hedging ({@code hedge_after: 0s}) and without resume. */
    public RouteSettings(String name, String prefix, boolean stripPrefix, List<String> models, List<RouteTarget> upstreams,
                         List<String> fallbackOn, Dialect dialect, Timeouts.Overrides timeouts, RetrySettings retry,
                         List<String> stripRequestHeaders) {
        this(name, prefix, stripPrefix, models, upstreams, fallbackOn, dialect, timeouts, retry, stripRequestHeaders,
                java.time.Duration.ZERO, ResumeSettings.OFF);
    }

    /** The shape of our own error bodies on this route. */
    public enum Dialect { OPENAI, ANTHROPIC }

    /** What a route carries: model API traffic, or an MCP tool server (streamable HTTP or HTTP+SSE, docs/mcp.md). */
    public enum Kind { MODEL, MCP }

    public boolean isMcp() { return kind == Kind.MCP; }
}
