package io.modelegress.server.downstream;

import io.modelegress.core.config.RouteSettings;
import io.modelegress.core.error.ErrorCode;
import io.modelegress.core.route.RequestBodies;
import io.modelegress.core.route.Router;
import io.modelegress.core.time.Durations;
import io.modelegress.core.timeout.Deadline;
import io.modelegress.server.http.ErrorResponses;
import io.modelegress.server.http.RequestContext;
import io.modelegress.server.http.StreamedRequest;
import io.modelegress.core.timeout.RequestDeadlines;
import io.modelegress.server.events.RequestOutcome;
import io.modelegress.server.ops.Drain;
import io.modelegress.server.runtime.EgressRuntime;
import io.modelegress.server.upstream.Exchange;
import io.modelegress.server.websocket.SocketBridge;
import io.modelegress.server.websocket.WebSocketUpgrade;
import io.netty.buffer.ByteBufInputStream;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.util.ReferenceCountUtil;
import java.time.Duration;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/**
 * Turns a complete agent request into an {@link Exchange}: refuses what an open proxy would accept (405), normalises
 * the path and finds the route (400 for a path that would leave its route, 404 for none), sets the deadline, and
 * starts forwarding. One exchange at a time per connection; a
 * pipelined request waits for the one before it.
 */
public final class DispatchHandler extends ChannelInboundHandlerAdapter implements Drain.InFlight {

    private final Supplier<EgressRuntime> runtime;
    private final Drain drain;
    private Exchange exchange;
    private FullHttpRequest pending;
    /** The exchange in flight answers with "Connection: close" (the agent asked, HTTP/1.0, or draining). */
    private boolean closeAfter;

    public DispatchHandler(Supplier<EgressRuntime> runtime, Drain drain) {
        this.runtime = runtime;
        this.drain = drain;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        drain.track(ctx.channel());
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof StreamedRequest.Envelope upload) msg = upload.request(); // a streamed body (RequestBodyStreamer)
        if (!(msg instanceof FullHttpRequest)) {
            ReferenceCountUtil.release(msg);
            return;
        }
        FullHttpRequest req = (FullHttpRequest) msg;
        if (exchange != null) {
            if (pending != null) {
                // More than one pipelined request: agents don't do this; refuse rather than buffer without bound.
                runtime.get().bodies().release(req);
                ctx.close();
                return;
            }
            pending = req;
            return;
        }
        handle(ctx, req);
    }

    private void handle(ChannelHandlerContext ctx, FullHttpRequest req) {
        EgressRuntime rt = runtime.get();
        long now = System.nanoTime();
        String id = req.headers().get(ErrorResponses.X_REQUEST_ID);
        RequestContext rc = new RequestContext(id, req.method().name(), req.uri(), now);
        rc.bytesIn = req.content().readableBytes();
        if (req instanceof io.modelegress.server.http.StreamedRequest s) s.body().countInto(rc);
        boolean keepAlive = HttpUtil.isKeepAlive(req) && !drain.draining();
        if (req.method() == HttpMethod.CONNECT || !req.uri().startsWith("/")) {
            answer(ctx, req, rc, ErrorCode.METHOD_NOT_ALLOWED, (req.method() == HttpMethod.CONNECT ? "CONNECT" : "absolute-form request for " + req.uri())
                    + " refused: the sidecar only forwards to configured routes", keepAlive);
            return;
        }
        Router.Resolution resolved = rt.router().resolve(req.uri(), () -> RequestBodies.topLevelString(
                new ByteBufInputStream(req.content().duplicate()), "model"));
        if (resolved instanceof Router.Refused refused) {
            rc.route = refused.route();
            answer(ctx, req, rc, ErrorCode.BAD_REQUEST, refused.reason(), keepAlive);
            return;
        }
        if (resolved instanceof Router.NotFound notFound) {
            String prefixes = rt.config().routes().stream().map(RouteSettings::prefix).collect(Collectors.joining(", "));
            answer(ctx, req, rc, ErrorCode.ROUTE_NOT_FOUND, "no route for " + notFound.path()
                    + " (configured prefixes: " + prefixes + ")", keepAlive);
            return;
        }
        Router.Routed routed = (Router.Routed) resolved;
        RouteSettings route = routed.route();
        // From here on the request carries the normalised target: it is what every attempt sends upstream.
        req.setUri(routed.uri());
        rc.route = route;
        plan(rt, req, route, rc);
        if (WebSocketUpgrade.requested(req)) { // the connection is the socket's from here on
            SocketBridge.start(rt, ctx, req, rc, drain);
            return;
        }
        closeAfter = !keepAlive;
        Exchange e = new Exchange(rt, ctx, req, rc, keepAlive, () -> onExchangeDone(ctx));
        exchange = e;
        drain.started();
        e.start();
    }

    /** The deadline and the limit on the wait for a committed answer (core's {@link RequestDeadlines}). */
    private static void plan(EgressRuntime rt, FullHttpRequest req, RouteSettings route, RequestContext rc) {
        RequestDeadlines.Plan p = RequestDeadlines.plan(rt.ticker(), rt.config().timeouts().with(route.timeouts()).request(),
                req.headers().get(RequestDeadlines.X_EGRESS_TIMEOUT), req.headers().get(RequestDeadlines.X_STAINLESS_TIMEOUT),
                req.headers().get(RequestDeadlines.X_STAINLESS_LANG));
        rc.deadline = p.deadline();
        rc.headersLimit = p.headersLimit();
        rc.headersLimitSource = p.headersLimitSource();
    }

    /** The drain deadline passed with this connection's exchange still running (on this channel's loop). */
    @Override
    public void shutDown(io.modelegress.core.error.EgressException why) {
        if (exchange != null) exchange.fail(why);
    }

    private void onExchangeDone(ChannelHandlerContext ctx) {
        drain.ended();
        exchange = null;
        FullHttpRequest next = pending;
        pending = null;
        if (next != null) {
            // After an answer that said "Connection: close" the connection is closing (its close may wait behind
            // buffered bytes): a request pipelined behind it is dropped, never sent upstream.
            if (ctx.channel().isActive() && !closeAfter) handle(ctx, next);
            else runtime.get().bodies().release(next);
        }
    }

    private void answer(ChannelHandlerContext ctx, FullHttpRequest req, RequestContext rc, ErrorCode code, String message,
                        boolean keepAlive) {
        runtime.get().bodies().release(req);
        rc.status = code.status();
        rc.error = code;
        var resp = ErrorResponses.response(ctx.alloc(), rc.dialect(), code, message, rc.requestId, keepAlive);
        rc.bytesOut = resp.content().readableBytes();
        var f = ctx.writeAndFlush(resp);
        if (!keepAlive) f.addListener(ChannelFutureListener.CLOSE);
        runtime.get().events().requestEnd(rc, RequestOutcome.ERROR, System.nanoTime());
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (exchange != null) exchange.onDownstreamWritable();
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (exchange != null) exchange.cancel();
        if (pending != null) {
            runtime.get().bodies().release(pending);
            pending = null;
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close();
    }
}
