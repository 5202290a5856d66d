package io.modelegress.server.downstream;

import io.modelegress.core.config.RouteSettings;
import io.modelegress.core.error.ErrorCode;
import io.modelegress.core.route.Router;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.FullHttpMessage;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpUtil;

/**
 * Buffers the request body (so a retry can resend it) up to {@code server.max_request_body}; over it, answers 413
 * {@code request_too_large} in the route's dialect. A body announced too large by Content-Length is skipped and the
 * connection stays usable; one that grows too large mid-way cannot be resynchronised, so that connection closes.
 */
public final class RequestBodyAggregator extends HttpObjectAggregator {
    private final Router router;

    public RequestBodyAggregator(int maxContentLength, Router router) {
        super(maxContentLength, true);
        this.router = router;
    }

    @Override
    protected void handleOversizedMessage(ChannelHandlerContext ctx, HttpMessage oversized) {
        HttpRequest req = (HttpRequest) oversized;
        boolean close = oversized instanceof FullHttpMessage
                || !HttpUtil.is100ContinueExpected(oversized) && !HttpUtil.isKeepAlive(oversized);
        RouteSettings route = req.uri().startsWith("/") ? router.route(req.uri(), () -> null) : null;
        var r = ErrorResponses.response(ctx.alloc(), route == null ? RouteSettings.Dialect.OPENAI : route.dialect(),
                ErrorCode.REQUEST_TOO_LARGE, "the request body is larger than " + maxContentLength()
                        + " bytes (server.max_request_body)", req.headers().get(ErrorResponses.X_REQUEST_ID), !close);
        ChannelFuture f = ctx.writeAndFlush(r);
        f.addListener(close ? ChannelFutureListener.CLOSE : ChannelFutureListener.CLOSE_ON_FAILURE);
    }
}
