package io.modelegress.core.mcp;

import io.modelegress.core.retry.AttemptOutcome;
import java.util.Locale;

/**
 * What one request on a {@code kind: mcp} route is, in MCP's terms (streamable HTTP, 2025-03-26 / 2025-06-18, and the
 * older HTTP+SSE), and the rules that follow from it: which request is the long-lived event stream (exempt from
 * {@code stream_idle} and the request deadline, bounded by {@code timeouts.mcp_stream_idle} instead), and when a
 * failed attempt may be made again. Pure; docs/mcp.md is the operator's table of the same rules.
 */
public enum McpRequest {
    /** {@code GET} asking for {@code text/event-stream}: the server-to-client stream ({@code /mcp}, or {@code /sse}). */
    EVENT_STREAM,
    /** {@code DELETE}: the client ends its session. */
    SESSION_END,
    /** Any other safe method ({@code GET} without the stream, {@code HEAD}, {@code OPTIONS}). */
    SAFE,
    /** {@code POST} (and any other unsafe method): a JSON-RPC request, notification or response. */
    MESSAGE;

    /** What may follow a failed attempt. */
    public enum Retry {
        /** The route's retry policy decides, fallback to its next upstream included. */
        POLICY,
        /** The retry policy decides, but on the same upstream only: the session lives on that server. */
        SAME_UPSTREAM,
        /** Nothing: the failure (or the answer) goes to the agent as it is. */
        NEVER
    }

    /** Classifies a request by its method and {@code Accept} header (null when absent). */
    public static McpRequest of(String method, String accept) {
        switch (method.toUpperCase(Locale.ROOT)) {
            case "GET":
                return accept != null && accept.toLowerCase(Locale.ROOT).contains("text/event-stream") ? EVENT_STREAM : SAFE;
            case "DELETE":
                return SESSION_END;
            case "HEAD":
            case "OPTIONS":
                return SAFE;
            default:
                return MESSAGE;
        }
    }

    /** The long-lived stream: no request deadline and no {@code stream_idle} once it is committed. */
    public boolean isEventStream() { return this == EVENT_STREAM; }

    /**
     * Whether a failed attempt of this request may be made again.
     *
     * @param outcome        how the attempt ended
     * @param requestWritten whether the request was written to the upstream connection in full
     * @param hasSession     whether the request carries {@code Mcp-Session-Id} (or the older transport's {@code sessionId})
     */
    public Retry retry(AttemptOutcome outcome, boolean requestWritten, boolean hasSession) {
        // The tool server answered: its answer is the agent's (a 404 on a session is the client's cue to re-initialise).
        if (outcome.isAnswer()) return Retry.NEVER;
        // A JSON-RPC message is never repeated once sent (a tool call could run twice), not even on a stale connection.
        if (this == MESSAGE && (requestWritten || outcome.responseStarted())) return Retry.NEVER;
        // GET and DELETE are safe to repeat, but only where the session is: another server would answer 404.
        return hasSession ? Retry.SAME_UPSTREAM : Retry.POLICY;
    }
}
