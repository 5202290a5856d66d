package io.modelegress.server.http;

import io.modelegress.core.config.RouteSettings.Dialect;
import io.modelegress.core.error.EgressException;
import io.modelegress.core.error.ErrorBodies;
import io.modelegress.core.error.ErrorCode;
import io.modelegress.core.sse.StreamCompletion;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/** The one place our own answers are built: the contract's JSON body and headers, or an SSE error event mid-stream. */
public final class ErrorResponses {
    public static final String X_EGRESS_ERROR = "x-egress-error";
    public static final String X_EGRESS_ATTEMPTS = "x-egress-attempts";
    public static final String X_SHOULD_RETRY = "x-should-retry";
    public static final String X_REQUEST_ID = "x-request-id";
    /** Anthropic's name for its request id. */
    public static final String REQUEST_ID = "request-id";
    /** The sidecar's own request id, beside the upstream's {@code x-request-id}. */
    public static final String X_EGRESS_REQUEST_ID = "x-egress-request-id";
    /** Headers only the sidecar sets: stripped from every upstream answer. */
    public static final String X_EGRESS_PREFIX = "x-egress-";

    private ErrorResponses() {}

    public static FullHttpResponse response(ByteBufAllocator alloc, Dialect dialect, EgressException e, String requestId,
                                            int attempts, boolean keepAlive) {
        ErrorCode code = e.code();
        byte[] body = ErrorBodies.json(dialect, code, e.describe()).getBytes(StandardCharsets.UTF_8);
        ByteBuf buf = alloc.buffer(body.length).writeBytes(body);
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(code.status()), buf);
        r.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON)
                .setInt(HttpHeaderNames.CONTENT_LENGTH, body.length)
                .set(X_EGRESS_ERROR, code.code())
                .set(X_SHOULD_RETRY, Boolean.toString(e.shouldRetry()))
                .setInt(X_EGRESS_ATTEMPTS, attempts);
        if (requestId != null) r.headers().set(X_REQUEST_ID, requestId).set(X_EGRESS_REQUEST_ID, requestId);
        Duration retryAfter = e.retryAfter();
        if (retryAfter != null && (code.status() == 429 || code.status() == 503)) {
            long ms = Math.max(0, retryAfter.toMillis());
            r.headers().set(HttpHeaderNames.RETRY_AFTER, Long.toString((ms + 999) / 1000))
                    .set("retry-after-ms", Long.toString(ms));
        }
        if (!keepAlive) r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        return r;
    }

    public static FullHttpResponse response(ByteBufAllocator alloc, Dialect dialect, ErrorCode code, String message,
                                            String requestId, boolean keepAlive) {
        return response(alloc, dialect, new EgressException(code, message), requestId, 0, keepAlive);
    }

    /**
     * Ends an exchange with our own error, whatever was sent so far: the JSON answer before the commit point; after
     * it, an SSE error event (in the stream's own format, {@code sse} being its shape so far; null for a plain body)
     * then the end of the stream; a plain body cut mid-way closes the connection, so the
     * client sees a truncated response at once. Returns the bytes written.
     */
    public static int answer(io.netty.channel.ChannelHandlerContext down, Dialect dialect, EgressException e, String requestId,
                             int attempts, boolean keepAlive, boolean committed, StreamCompletion sse) {
        if (!committed) {
            FullHttpResponse resp = response(down.alloc(), dialect, e, requestId, attempts, keepAlive);
            int n = resp.content().readableBytes();
            var f = down.writeAndFlush(resp);
            if (!keepAlive) f.addListener(io.netty.channel.ChannelFutureListener.CLOSE);
            return n;
        }
        if (sse != null) {
            HttpContent event = sseEvent(down.alloc(), dialect, sse, e);
            int n = event.content().readableBytes();
            down.write(event);
            var f = down.writeAndFlush(io.netty.handler.codec.http.LastHttpContent.EMPTY_LAST_CONTENT);
            // The head said "Connection: close": close once the stream's end has gone out.
            if (!keepAlive) f.addListener(io.netty.channel.ChannelFutureListener.CLOSE);
            return n;
        }
        // A plain body cut mid-way: flush what was relayed (at least the head), then close, so the client sees a
        // truncated response at once instead of a connection closed with nothing.
        down.writeAndFlush(io.netty.buffer.Unpooled.EMPTY_BUFFER).addListener(io.netty.channel.ChannelFutureListener.CLOSE);
        return 0;
    }

    /** The SSE error event for a stream that already started, in the format of that stream. */
    public static HttpContent sseEvent(ByteBufAllocator alloc, Dialect dialect, StreamCompletion shape, EgressException e) {
        byte[] b = ErrorBodies.sseEvent(dialect, shape.api(), shape.sequenceNumber(), e.code(), e.describe())
                .getBytes(StandardCharsets.UTF_8);
        return new DefaultHttpContent(alloc.buffer(b.length).writeBytes(b));
    }
}
