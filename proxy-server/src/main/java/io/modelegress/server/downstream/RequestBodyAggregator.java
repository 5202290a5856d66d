package io.modelegress.server.downstream;

import io.modelegress.server.http.ErrorResponses;
import io.modelegress.server.http.BodyBudget;
import io.modelegress.core.config.RouteSettings;
import io.modelegress.core.error.EgressException;
import io.modelegress.core.error.ErrorCode;
import io.modelegress.core.route.Router;
import io.modelegress.server.metrics.EgressMetrics;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.PrematureChannelClosureException;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpMessage;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import java.time.Duration;
import java.util.List;

/**
 * Buffers the request body (so a retry can resend it) up to {@code server.max_request_body}, within the process-wide
 * {@link BodyBudget}. Over the body limit: 413 {@code request_too_large}; over the budget: 503 {@code overloaded}
 * with {@code retry-after}, at once. A body refused by its Content-Length is skipped and the connection stays
 * usable; one refused mid-way cannot be resynchronised, so that connection closes. What this connection holds of a
 * body still arriving is its own share of the budget; a complete request carries its share on (see
 * {@link BodyBudget#release(io.netty.handler.codec.http.FullHttpRequest)}).
 */
public final class RequestBodyAggregator extends HttpObjectAggregator {
    private static final Duration OVERLOADED_RETRY_AFTER = Duration.ofSeconds(1);
    /**
     * The longest piece of body the agent-side decoder passes on (its {@code maxChunkSize}): a longer body never
     * comes in one piece, so its head is not held and its budget is taken at the head, by its Content-Length.
     */
    public static final int MAX_PIECE = 64 * 1024;

    private final Router router;
    private final BodyBudget budget;
    private final EgressMetrics metrics;
    /** Budget taken for the body being aggregated: its whole Content-Length up front, or chunk by chunk. */
    private long partial;
    private boolean reservedUpFront;
    private boolean overBudget;
    /** The current body was refused by its Content-Length: the aggregator drops it, so it takes no budget. */
    private boolean refused;
    /** A body refused mid-way: the rest of it is dropped until the connection closes. */
    private boolean discarding;
    /** A head held back for one message: its whole body may be the next (see {@link #mayComeWhole}). */
    private HttpRequest pendingHead;
    /** The held head's body length (0 with no Content-Length), read once. */
    private long pendingLength;
    private String currentUri = "/";
    private String currentId;

    public RequestBodyAggregator(int maxContentLength, Router router, BodyBudget budget, EgressMetrics metrics) {
        super(maxContentLength, true);
        this.router = router;
        this.budget = budget;
        this.metrics = metrics;
    }

    @Override
    protected boolean isContentLengthInvalid(HttpMessage start, int maxContentLength) {
        if (super.isContentLengthInvalid(start, maxContentLength)) return true;
        long length = HttpUtil.getContentLength(start, -1L);
        if (length <= 0) return false;
        if (!budget.tryReserve(length)) {
            overBudget = true;
            return true;
        }
        partial = length;
        reservedUpFront = true;
        return false;
    }

    /** Netty's aggregator takes content only while it aggregates; the piece after a held head is ours too. */
    @Override
    public boolean acceptInboundMessage(Object msg) throws Exception {
        return pendingHead != null && msg instanceof HttpContent || super.acceptInboundMessage(msg);
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, HttpObject msg, List<Object> out) throws Exception {
        if (discarding) return;
        HttpRequest head = pendingHead;
        if (head != null) {
            pendingHead = null;
            if (msg instanceof LastHttpContent last && whole(head, last)) {
                out.add(new DefaultFullHttpRequest(head.protocolVersion(), head.method(), head.uri(),
                        last.content().retain(), head.headers(), last.trailingHeaders()));
                return;
            }
            generalPath(ctx, head, out); // in pieces, or refused: as if the head had not waited
            if (discarding) return;
        }
        if (msg instanceof HttpRequest h && mayComeWhole(h)) {
            pendingHead = h;
            return;
        }
        generalPath(ctx, msg, out);
    }

    /**
     * A head whose body may follow as one last piece (a body of up to {@link #MAX_PIECE} with its Content-Length, or
     * none: the decoder then sends its end at once) waits for it, so that the two make one request around that piece,
     * without the composite buffer and header rewrites of the general path. Anything the general path answers at the head
     * ({@code Expect}, chunked, a length over the limit) goes that way at once.
     */
    private boolean mayComeWhole(HttpRequest head) {
        if (head.decoderResult().isFailure()) return false;
        HttpHeaders h = head.headers();
        if (h.contains(HttpHeaderNames.EXPECT) || h.contains(HttpHeaderNames.TRANSFER_ENCODING)) return false;
        pendingLength = HttpUtil.getContentLength(head, 0L);
        return pendingLength >= 0 && pendingLength <= Math.min(MAX_PIECE, maxContentLength());
    }

    /** The last piece is the whole body the head announced, and the budget takes it: one request, as aggregated. */
    private boolean whole(HttpRequest head, LastHttpContent last) {
        int n = last.content().readableBytes();
        if (!last.decoderResult().isSuccess() || n != pendingLength) return false;
        if (n > 0 && !budget.tryReserve(n)) return false; // the general path refuses it with its own answer
        if (n == 0 && !HttpUtil.isContentLengthSet(head)) head.headers().set(HttpHeaderNames.CONTENT_LENGTH, HttpHeaderValues.ZERO);
        return true;
    }

    /** Netty's aggregation, with the budget taken as the body arrives (or up front by its Content-Length). */
    private void generalPath(ChannelHandlerContext ctx, HttpObject msg, List<Object> out) throws Exception {
        if (msg instanceof HttpMessage) {
            partial = 0;
            reservedUpFront = false;
            overBudget = false;
            refused = false;
        } else if (msg instanceof HttpContent && !reservedUpFront && !refused) {
            int n = ((HttpContent) msg).content().readableBytes();
            if (!budget.tryReserve(n)) {
                discarding = true;
                releasePartial();
                refuse(ctx, currentUri, currentId, overloaded(), true);
                return;
            }
            partial += n;
        }
        super.decode(ctx, msg, out);
    }

    @Override
    protected FullHttpMessage beginAggregation(HttpMessage start, io.netty.buffer.ByteBuf content) throws Exception {
        currentUri = ((HttpRequest) start).uri();
        currentId = start.headers().get(ErrorResponses.X_REQUEST_ID);
        return super.beginAggregation(start, content);
    }

    @Override
    protected void finishAggregation(FullHttpMessage aggregated) throws Exception {
        super.finishAggregation(aggregated);
        // The request carries its share from here on; a short body (Content-Length said more) gives back the rest.
        budget.release(partial - aggregated.content().readableBytes());
        partial = 0;
        reservedUpFront = false;
    }

    @Override
    protected void handleOversizedMessage(ChannelHandlerContext ctx, HttpMessage oversized) {
        HttpRequest req = (HttpRequest) oversized;
        boolean close = oversized instanceof FullHttpMessage
                || !HttpUtil.is100ContinueExpected(oversized) && !HttpUtil.isKeepAlive(oversized);
        releasePartial();
        refused = true;
        EgressException e = overBudget ? overloaded() : new EgressException(ErrorCode.REQUEST_TOO_LARGE,
                "the request body is larger than " + maxContentLength() + " bytes (server.max_request_body)");
        overBudget = false;
        refuse(ctx, req.uri(), req.headers().get(ErrorResponses.X_REQUEST_ID), e, close);
    }

    private EgressException overloaded() {
        return new EgressException(ErrorCode.OVERLOADED, "the sidecar holds " + budget.used() + " bytes of request "
                + "bodies, its limit is " + budget.limit() + " (server.max_buffered_bytes)", OVERLOADED_RETRY_AFTER, null);
    }

    private void refuse(ChannelHandlerContext ctx, String uri, String id, EgressException e, boolean close) {
        RouteSettings route = uri.startsWith("/") ? router.route(uri, () -> null) : null;
        metrics.error(e.code().code(), route == null ? "-" : route.name());
        var r = ErrorResponses.response(ctx.alloc(), route == null ? RouteSettings.Dialect.OPENAI : route.dialect(),
                e, id, 0, !close);
        ChannelFuture f = ctx.writeAndFlush(r);
        f.addListener(close ? ChannelFutureListener.CLOSE : ChannelFutureListener.CLOSE_ON_FAILURE);
    }

    private void releasePartial() {
        budget.release(partial);
        partial = 0;
        reservedUpFront = false;
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) throws Exception {
        if (pendingHead != null && !ctx.channel().config().isAutoRead()) ctx.read(); // its body is still to come
        super.channelReadComplete(ctx);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        releasePartial();
        if (pendingHead != null) {
            pendingHead = null;
            ctx.fireExceptionCaught(new PrematureChannelClosureException("Channel closed while still aggregating message"));
        }
        super.channelInactive(ctx);
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) throws Exception {
        releasePartial();
        pendingHead = null;
        super.handlerRemoved(ctx);
    }
}
