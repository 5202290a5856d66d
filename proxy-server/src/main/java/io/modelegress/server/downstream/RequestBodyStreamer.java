package io.modelegress.server.downstream;

import io.modelegress.core.config.RouteSettings;
import io.modelegress.core.config.UploadSettings;
import io.modelegress.core.error.EgressException;
import io.modelegress.core.error.ErrorCode;
import io.modelegress.core.route.Router;
import io.modelegress.server.http.ErrorResponses;
import io.modelegress.server.http.StreamedBody;
import io.modelegress.server.http.StreamedRequest;
import io.modelegress.server.metrics.EgressMetrics;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import java.util.ArrayList;
import java.util.List;

/**
 * Sits before the {@link RequestBodyAggregator} and takes the bodies it should not hold: a Content-Length over
 * {@code server.buffer_request_body_up_to}, or a chunked body once it grows past it, becomes a
 * {@link StreamedRequest} dispatched at once, its chunks fed to its {@link StreamedBody} as they arrive. Over
 * {@code server.max_streamed_request_body}: 413 {@code request_too_large} before anything is sent upstream (by the
 * Content-Length; the connection closes), or, for a chunked body crossing it, the exchange ends with that error and
 * the connection closes. Everything else passes untouched: a chunked body that ends within the limit is handed to
 * the aggregator whole, as if it had just arrived.
 */
public final class RequestBodyStreamer extends ChannelInboundHandlerAdapter {
    private enum State { PASS, SNIFFING, STREAMING, DISCARDING }

    private final UploadSettings settings;
    private final DownstreamGuard guard;
    private final Router router;
    private final EgressMetrics metrics;
    /** What a chunked body held here counts against server.max_buffered_bytes, as it would in the aggregator. */
    private final io.modelegress.server.http.BodyBudget budget;
    private long reserved;
    /** How long a connection refused mid-upload keeps reading (and dropping) after its answer, so the answer is read. */
    private static final long LINGER_MILLIS = 2000;

    private State state = State.PASS;
    /** The answer is out and the connection closing: everything the agent still sends is dropped. */
    private boolean closing;
    /** A chunked request being measured: its head and what arrived of it (at most the threshold and one read). */
    private HttpRequest sniffed;
    private final List<HttpContent> sniffedChunks = new ArrayList<>();
    private long sniffedBytes;
    private StreamedBody body;

    public RequestBodyStreamer(UploadSettings settings, DownstreamGuard guard, Router router, EgressMetrics metrics,
                               io.modelegress.server.http.BodyBudget budget) {
        this.budget = budget;
        this.settings = settings;
        this.guard = guard;
        this.router = router;
        this.metrics = metrics;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (closing) {
            io.netty.util.ReferenceCountUtil.release(msg);
            return;
        }
        if (msg instanceof HttpRequest head && !(msg instanceof FullHttpRequest)) {
            onHead(ctx, head);
        } else if (msg instanceof HttpContent c) {
            onContent(ctx, c);
        } else {
            ctx.fireChannelRead(msg);
        }
    }

    private void onHead(ChannelHandlerContext ctx, HttpRequest head) {
        state = State.PASS;
        if (!settings.streams() || head.decoderResult().isFailure()) {
            ctx.fireChannelRead(head);
            return;
        }
        long length = HttpUtil.getContentLength(head, -1L);
        if (length > settings.bufferRequestBodyUpTo()) {
            if (length > settings.maxStreamedRequestBody()) {
                state = State.DISCARDING;
                refuse(ctx, head.uri(), head.headers().get(ErrorResponses.X_REQUEST_ID), tooLarge(length + " bytes"));
                return;
            }
            stream(ctx, head, length);
        } else if (length < 0 && HttpUtil.isTransferEncodingChunked(head)) {
            // Its size shows only as it arrives: held here until it ends (then aggregated) or outgrows the threshold.
            continueIfExpected(ctx, head);
            sniffed = head;
            sniffedBytes = 0;
            state = State.SNIFFING;
        } else {
            ctx.fireChannelRead(head);
        }
    }

    private void onContent(ChannelHandlerContext ctx, HttpContent c) {
        boolean last = c instanceof LastHttpContent;
        switch (state) {
            case PASS -> ctx.fireChannelRead(c);
            case DISCARDING -> {
                c.release();
                if (last) state = State.PASS;
            }
            case SNIFFING -> {
                int n = c.content().readableBytes();
                sniffedChunks.add(c);
                sniffedBytes += n;
                if (!budget.tryReserve(n)) {
                    String uri = sniffed.uri();
                    String id = sniffed.headers().get(ErrorResponses.X_REQUEST_ID);
                    releaseSniffed();
                    state = State.DISCARDING;
                    refuse(ctx, uri, id, new EgressException(ErrorCode.OVERLOADED, "the sidecar holds " + budget.used()
                            + " bytes of request bodies, its limit is " + budget.limit() + " (server.max_buffered_bytes)",
                            java.time.Duration.ofSeconds(1), null));
                    return;
                }
                reserved += n;
                if (last) {
                    releaseReserved(); // the aggregator takes its own share as the chunks reach it
                    state = State.PASS;
                    HttpRequest head = sniffed;
                    sniffed = null;
                    ctx.fireChannelRead(head);
                    List<HttpContent> chunks = new ArrayList<>(sniffedChunks);
                    sniffedChunks.clear();
                    for (HttpContent x : chunks) ctx.fireChannelRead(x);
                } else if (sniffedBytes > settings.bufferRequestBodyUpTo()) {
                    releaseReserved(); // streamed: what waits for the upstream is bounded by the threshold
                    HttpRequest head = sniffed;
                    sniffed = null;
                    stream(ctx, head, -1);
                    List<HttpContent> chunks = new ArrayList<>(sniffedChunks);
                    sniffedChunks.clear();
                    for (HttpContent x : chunks) feed(ctx, x);
                }
            }
            case STREAMING -> feed(ctx, c);
        }
    }

    /** From here the body goes to its {@link StreamedBody}; the request itself is dispatched now, ahead of it. */
    private void stream(ChannelHandlerContext ctx, HttpRequest head, long length) {
        continueIfExpected(ctx, head);
        head.headers().remove(HttpHeaderNames.EXPECT);
        // A large body may take longer than server.request_read_timeout: the request deadline bounds it from here.
        guard.bodyStreamed();
        body = new StreamedBody(ctx.channel(), length, (int) settings.bufferRequestBodyUpTo());
        state = State.STREAMING;
        ctx.fireChannelRead(new StreamedRequest.Envelope(new StreamedRequest(head, body)));
    }

    private void feed(ChannelHandlerContext ctx, HttpContent c) {
        StreamedBody b = body;
        boolean last = c instanceof LastHttpContent;
        if (last) {
            state = State.PASS;
            body = null;
        }
        if (b.received() + c.content().readableBytes() > settings.maxStreamedRequestBody()) {
            c.release();
            state = last ? State.PASS : State.DISCARDING;
            body = null;
            EgressException e = tooLarge("more than " + settings.maxStreamedRequestBody() + " bytes (a chunked body)");
            if (!b.agentError(e)) metrics.error(e.code().code(), "-");
            b.end();
            // The exchange has answered (or could not, being committed): the body cannot be resynchronised.
            closeAfter(ctx, ctx.writeAndFlush(Unpooled.EMPTY_BUFFER));
            return;
        }
        b.offer(c);
    }

    private void continueIfExpected(ChannelHandlerContext ctx, HttpRequest head) {
        if (!HttpUtil.is100ContinueExpected(head)) return;
        head.headers().remove(HttpHeaderNames.EXPECT);
        ctx.writeAndFlush(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE, Unpooled.EMPTY_BUFFER));
    }

    private EgressException tooLarge(String size) {
        return new EgressException(ErrorCode.REQUEST_TOO_LARGE, "the request body is " + size + ", over "
                + settings.maxStreamedRequestBody() + " bytes (server.max_streamed_request_body)");
    }

    private void refuse(ChannelHandlerContext ctx, String uri, String id, EgressException e) {
        RouteSettings route = uri.startsWith("/") ? router.route(uri, () -> null) : null;
        metrics.error(e.code().code(), route == null ? "-" : route.name());
        var r = ErrorResponses.response(ctx.alloc(), route == null ? RouteSettings.Dialect.OPENAI : route.dialect(),
                e, id, 0, false);
        closeAfter(ctx, ctx.writeAndFlush(r));
    }

    /**
     * Closes once {@code answer} is out, lingering: our side is shut for writing and what the agent still sends is
     * read and dropped for a moment. Closing with its upload unread would reset the connection, and a reset can
     * discard the answer before the agent reads it.
     */
    private void closeAfter(ChannelHandlerContext ctx, io.netty.channel.ChannelFuture answer) {
        closing = true;
        ctx.channel().config().setAutoRead(true);
        answer.addListener(f -> {
            if (!f.isSuccess() || !(ctx.channel() instanceof io.netty.channel.socket.SocketChannel sc)) {
                ctx.close();
                return;
            }
            sc.shutdownOutput();
            ctx.executor().schedule(() -> { ctx.close(); }, LINGER_MILLIS, java.util.concurrent.TimeUnit.MILLISECONDS);
        });
    }

    private void releaseReserved() {
        budget.release(reserved);
        reserved = 0;
    }

    private void releaseSniffed() {
        releaseReserved();
        for (HttpContent c : sniffedChunks) c.release();
        sniffedChunks.clear();
        sniffed = null;
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        releaseSniffed();
        body = null; // the dispatcher's cancel ends it (the exchange releases its request)
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        releaseSniffed();
    }
}
