package io.modelegress.server.http;

import io.modelegress.core.config.RouteSettings;
import io.modelegress.core.error.ErrorCode;
import io.modelegress.core.timeout.Deadline;

/**
 * Per-request state, touched only on the downstream channel's event loop: id, route, deadline, attempts, and the
 * timings and counts the access log and metrics report.
 */
public final class RequestContext {
    public final String requestId;
    public final String method;
    public final String path;
    public final long startNanos;
    public RouteSettings route;
    public Deadline deadline;
    public String upstream = "-";
    public int attempts;
    /** Why the retry policy made no further attempt (null: it was not asked, or it retried). */
    public io.modelegress.core.retry.RetryDecision.StopReason retryStopped;
    /** The upstream's own request id ({@code x-request-id} or Anthropic's {@code request-id}), or null. */
    public String upstreamRequestId;
    public int status;
    public ErrorCode error;
    public boolean committed;
    public long firstByteNanos = -1;
    public long queueWaitNanos;
    public long connectNanos = -1;
    public long bytesIn;
    /** The body is streamed ({@link StreamedBody}): {@link #bytesIn} counts its bytes as they come from the agent. */
    public boolean streamedUpload;
    public long bytesOut;
    public boolean streaming;
    /** The proxy auth scheme of the upstream connection (basic, ntlm, negotiate, none), null without a proxy. */
    public String proxyAuth;
    /** The protocol of the last attempt's upstream connection, {@code h1} or {@code h2}; null before one connected. */
    public String upstreamProtocol;
    /** How mid-stream resume ended, for the access log ({@code prefill:ok}, {@code not resumed: a tool call}), or null. */
    public String resume;
    /** A limit on the wait until the response is committed (the agent SDK's announced timeout), or null. */
    public java.time.Duration headersLimit;
    public String headersLimitSource;
    /** The body's top-level "model", read at most once and only when a breaker needs it (see RequestModels). */
    public String bodyModel;
    public boolean bodyModelRead;
    /** The Responses API call this request is (null: none); when it follows up a remembered response, the route's
     *  entry it is pinned to (-1: none) and that response's id (see upstream.ResponsePins). */
    public io.modelegress.core.route.ResponsesApi.Call responsesCall;
    public int pinnedTarget = -1;
    public String pinnedResponse;
    /** A passed-through WebSocket: how it closed ({@code 1000 agent}, {@code 1001 idle}), for the access log; else null. */
    public String websocket;

    public RequestContext(String requestId, String method, String path, long startNanos) {
        this.requestId = requestId;
        this.method = method;
        this.path = path;
        this.startNanos = startNanos;
    }

    public String routeName() { return route == null ? "-" : route.name(); }

    public RouteSettings.Dialect dialect() { return route == null ? RouteSettings.Dialect.OPENAI : route.dialect(); }
}
