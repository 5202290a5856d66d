package io.modelegress.server.upstream;

import io.modelegress.core.config.RouteSettings;
import io.modelegress.core.config.Timeouts;
import io.modelegress.core.timeout.Deadline;
import io.modelegress.server.http.RequestContext;
import io.modelegress.core.mcp.McpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.QueryStringDecoder;

/** Reads an agent request on a {@code kind: mcp} route as core's {@link McpRequest} (docs/mcp.md). */
final class McpRequests {
    static final String MCP_SESSION_ID = "mcp-session-id";

    private McpRequests() {}

    /** What {@code req} is on {@code route}, or null when the route is not an MCP route. */
    static McpRequest of(RouteSettings route, HttpRequest req) {
        if (route == null || !route.isMcp()) return null;
        return McpRequest.of(req.method().name(), req.headers().get(HttpHeaderNames.ACCEPT));
    }

    /** Whether the request belongs to a session: streamable HTTP's header, or the older transport's query parameter. */
    static boolean hasSession(HttpRequest req) {
        if (req.headers().contains(MCP_SESSION_ID)) return true;
        return req.uri().contains("sessionId=") && new QueryStringDecoder(req.uri()).parameters().containsKey("sessionId");
    }

    /** What MCP allows after {@code outcome} ({@code POLICY} off MCP routes); the session is looked up only then. */
    static McpRequest.Retry retryRule(McpRequest mcp, io.modelegress.core.retry.AttemptOutcome outcome, boolean written,
                                      HttpRequest req) {
        return mcp == null ? McpRequest.Retry.POLICY : mcp.retry(outcome, written, hasSession(req));
    }

    /**
     * An MCP event stream's request was written: the request deadline no longer applies to it (docs/mcp.md); its
     * silence is bounded by {@code timeouts.mcp_stream_idle} instead.
     */
    static void liftDeadline(RequestContext rc, HttpRequest req, ExchangeTimers timers) {
        McpRequest r = of(rc.route, req);
        if (r != null && r.isEventStream()) timers.liftDeadline();
    }

    /**
     * The wait for an MCP event stream's head: {@code timeouts.mcp_stream_idle} instead of {@code response_headers}
     * (servers send that head with their first event, which may come an hour later). Null for any other request.
     */
    static Deadline.Limit headersLimit(RequestContext rc, HttpRequest req, Timeouts t) {
        McpRequest r = of(rc.route, req);
        if (r == null || !r.isEventStream()) return null;
        return new Deadline.Limit(t.mcpStreamIdle().toNanos(), "timeouts.mcp_stream_idle", t.mcpStreamIdle());
    }
}
