package io.modelegress.server.websocket;

import io.modelegress.core.config.RouteSettings;
import io.modelegress.core.config.Timeouts;
import io.modelegress.core.config.UpstreamSettings;
import io.modelegress.core.error.EgressException;
import io.modelegress.core.error.ErrorCode;
import io.modelegress.core.timeout.Deadline;
import io.modelegress.server.events.RequestOutcome;
import io.modelegress.server.http.ErrorResponses;
import io.modelegress.server.http.HandlerNames;
import io.modelegress.server.http.HopByHop;
import io.modelegress.server.http.RequestContext;
import io.modelegress.server.ops.Drain;
import io.modelegress.server.runtime.EgressRuntime;
import io.modelegress.server.upstream.ProxyHop;
import io.modelegress.server.upstream.UpstreamConnector;
import io.modelegress.server.upstream.UpstreamFailures;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.websocketx.WebSocketClientHandshaker;
import io.netty.handler.codec.http.websocketx.WebSocketClientHandshakerFactory;
import io.netty.handler.codec.http.websocketx.WebSocketDecoderConfig;
import io.netty.handler.codec.http.websocketx.WebSocketHandshakeException;
import io.netty.handler.codec.http.websocketx.WebSocketServerHandshaker;
import io.netty.handler.codec.http.websocketx.WebSocketServerHandshakerFactory;
import io.netty.handler.codec.http.websocketx.WebSocketVersion;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The connect phase of one agent WebSocket: the upstream connection through the same connector and proxy path as any
 * request (always a tunnel through an HTTP proxy), the upstream's handshake with our credential, and only after its
 * 101 the agent's own 101; then a {@link FrameRelay} takes both channels over. Until then every failure answers the
 * upgrade as an HTTP request: our typed error, or the upstream's own error answer as it came. Nothing is retried: an
 * upgrade is one attempt on the route's first upstream.
 */
public final class SocketBridge {
    private static final int MAX_REFUSAL_BODY = 64 * 1024;
    private static final String AGGREGATOR = "ws-handshake-aggregator";
    private static final String HANDSHAKE = "ws-handshake";
    /** The agent-side handlers of plain HTTP that a WebSocket has no use for (the codec goes with the handshake). */
    private static final String[] HTTP_ONLY = {HandlerNames.FIRST_BYTE, HandlerNames.GUARD,
            HandlerNames.BODY, HandlerNames.DISPATCH};

    private final EgressRuntime rt;
    private final ChannelHandlerContext down;
    private final FullHttpRequest request;
    private final RequestContext rc;
    private final Drain drain;
    private UpstreamSettings upstream;
    private Timeouts timeouts;
    private Channel up;
    private WebSocketClientHandshaker handshaker;
    private ScheduledFuture<?> headersTimer;
    private EarlyFrames early;
    private boolean over;

    private SocketBridge(EgressRuntime rt, ChannelHandlerContext down, FullHttpRequest request, RequestContext rc, Drain drain) {
        this.rt = rt;
        this.down = down;
        this.request = request;
        this.rc = rc;
        this.drain = drain;
    }

    /** Takes over {@code request} (routed to {@code rc.route}, deadline set) and the agent's channel. */
    public static void start(EgressRuntime rt, ChannelHandlerContext down, FullHttpRequest request, RequestContext rc, Drain drain) {
        new SocketBridge(rt, down, request, rc, drain).start();
    }

    private void start() {
        // Nothing more is read from the agent until it is a WebSocket (or has its answer).
        down.channel().config().setAutoRead(false);
        RouteSettings route = rc.route;
        if (!route.websocket()) {
            refuse(new EgressException(ErrorCode.WEBSOCKET_NOT_ALLOWED, "route \"" + route.name()
                    + "\" does not pass WebSocket upgrades (routes[].websocket is false)"));
            return;
        }
        String invalid = WebSocketUpgrade.invalid(request);
        if (invalid != null) {
            refuse(new EgressException(ErrorCode.BAD_REQUEST, invalid));
            return;
        }
        upstream = rt.config().upstream(route.upstreams().get(0).upstream());
        rc.upstream = upstream.name();
        rc.attempts = 1;
        EgressException noCredential = UpstreamFailures.credential(upstream);
        if (noCredential != null) {
            refuse(noCredential);
            return;
        }
        ProxyHop proxy;
        try {
            proxy = rt.proxyFor(upstream);
        } catch (EgressException e) {
            refuse(e);
            return;
        }
        timeouts = rt.config().timeoutsFor(route, upstream);
        UpstreamConnector.Target t = new UpstreamConnector.Target(upstream, proxy, timeouts, rc.deadline, true);
        long begin = System.nanoTime();
        down.channel().closeFuture().addListener(f -> {
            if (!over) abandon(); // the agent left before its 101
        });
        rt.pool().open(down.channel().eventLoop(), t).addListener(f -> {
            if (!f.isSuccess()) {
                refuse(UpstreamFailures.asEgress(f.cause()));
                return;
            }
            Channel ch = (Channel) f.getNow();
            if (over) {
                ch.close();
                return;
            }
            up = ch;
            rc.connectNanos = System.nanoTime() - begin;
            rc.proxyAuth = ch.attr(UpstreamConnector.PROXY_AUTH).get();
            handshakeUpstream();
        });
    }

    private void handshakeUpstream() {
        int maxMessage = (int) rt.config().server().websocketMaxMessage();
        handshaker = WebSocketClientHandshakerFactory.newHandshaker(WebSocketUpgrade.upstreamUri(rc, upstream, request.uri()),
                WebSocketVersion.V13, WebSocketUpgrade.subprotocols(request, upstream), false,
                WebSocketUpgrade.upstreamHeaders(request, rc, upstream), maxMessage, true, false, -1, false, false);
        up.pipeline().addLast(AGGREGATOR, new HttpObjectAggregator(MAX_REFUSAL_BODY));
        early = new EarlyFrames(this::onUpstreamAnswer, this::onUpstreamGone);
        up.pipeline().addLast(HANDSHAKE, early);
        Deadline.Limit l = rc.deadline.limitFor(timeouts.responseHeaders(), "timeouts.response_headers");
        headersTimer = down.executor().schedule(() -> refuse(rc.deadline.exceeded(ErrorCode.UPSTREAM_RESPONSE_TIMEOUT, l,
                "upstream " + upstream.authority() + " did not answer the WebSocket upgrade")), l.nanos(), TimeUnit.NANOSECONDS);
        handshaker.handshake(up).addListener(w -> {
            if (!w.isSuccess()) onUpstreamGone(w.cause());
        });
    }

    /** The upstream's answer to the upgrade, whole (released here). */
    private void onUpstreamAnswer(FullHttpResponse resp) {
        if (over) {
            resp.release();
            return;
        }
        cancelTimer();
        up.config().setAutoRead(false); // frames behind the 101 wait in EarlyFrames until the agent is upgraded
        int status = resp.status().code();
        rc.upstreamRequestId = resp.headers().get(ErrorResponses.X_REQUEST_ID);
        try {
            if (status != 101 && status >= 400) {
                relayRefusal(resp.retain());
                return;
            }
            try {
                handshaker.finishHandshake(up, resp);
            } catch (WebSocketHandshakeException e) {
                refuse(new EgressException(ErrorCode.UPSTREAM_WEBSOCKET_REFUSED, "upstream \"" + upstream.name()
                        + "\" answered the WebSocket upgrade with " + status + ": " + e.getMessage()));
                return;
            }
            handshakeAgent(upgradeHeaders(resp.headers()));
        } finally {
            resp.release();
        }
    }

    private void handshakeAgent(HttpHeaders headers) {
        int maxMessage = (int) rt.config().server().websocketMaxMessage();
        WebSocketDecoderConfig decoder = WebSocketDecoderConfig.newBuilder().maxFramePayloadLength(maxMessage)
                .expectMaskedFrames(true).allowMaskMismatch(false).allowExtensions(false).closeOnProtocolViolation(true).build();
        String chosen = handshaker.actualSubprotocol();
        WebSocketServerHandshaker agent = new WebSocketServerHandshakerFactory("ws://" + request.headers().get(HttpHeaderNames.HOST)
                + request.uri(), chosen == null || chosen.isEmpty() ? null : chosen, decoder).newHandshaker(request);
        var pipeline = down.pipeline();
        for (String name : HTTP_ONLY) if (pipeline.get(name) != null) pipeline.remove(name);
        over = true; // from here the relay owns both channels; the connect phase cannot answer any more
        FrameRelay relay = new FrameRelay(rt, rc, drain, down.channel(), up, timeouts.websocketIdle(), maxMessage);
        agent.handshake(down.channel(), request, headers, down.channel().newPromise()).addListener(f -> {
            rt.bodies().release(request);
            if (!f.isSuccess()) {
                up.close();
                down.channel().close();
                return;
            }
            rc.status = 101;
            relay.start(early);
        });
    }

    /** Headers of the upstream's 101 worth passing on (its request id, rate-limit headers …), not the handshake's own. */
    private HttpHeaders upgradeHeaders(HttpHeaders from) {
        HttpHeaders h = new DefaultHttpHeaders().add(from);
        HopByHop.strip(h);
        HopByHop.removePrefixed(h, "sec-websocket-");
        HopByHop.removePrefixed(h, ErrorResponses.X_EGRESS_PREFIX);
        h.remove(HttpHeaderNames.CONTENT_LENGTH);
        h.set(ErrorResponses.X_EGRESS_REQUEST_ID, rc.requestId);
        return h;
    }

    /** The upstream refused the upgrade with an HTTP error (401, 404, 429 …): the agent gets it as it came. */
    private void relayRefusal(FullHttpResponse resp) {
        over = true;
        FullHttpResponse out = new DefaultFullHttpResponse(resp.protocolVersion(), resp.status(), resp.content(),
                resp.headers().copy(), resp.trailingHeaders().copy());
        HopByHop.strip(out.headers());
        HopByHop.removePrefixed(out.headers(), ErrorResponses.X_EGRESS_PREFIX);
        out.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, out.content().readableBytes())
                .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE)
                .set(ErrorResponses.X_EGRESS_REQUEST_ID, rc.requestId);
        rc.status = out.status().code();
        rc.bytesOut = out.content().readableBytes();
        up.close();
        rt.bodies().release(request);
        down.writeAndFlush(out).addListener(ChannelFutureListener.CLOSE);
        rt.events().requestEnd(rc, RequestOutcome.OK, System.nanoTime());
    }

    private void onUpstreamGone(Throwable cause) {
        if (over) return;
        refuse(new EgressException(ErrorCode.UPSTREAM_RESET, "upstream \"" + upstream.name()
                + "\" closed the connection before answering the WebSocket upgrade"
                + (cause == null ? "" : " (" + UpstreamFailures.simple(cause) + ")")));
    }

    /** Answers the upgrade with our own error and closes the agent's connection. */
    private void refuse(EgressException e) {
        if (over) return;
        over = true;
        cancelTimer();
        if (up != null) up.close();
        rt.bodies().release(request);
        rc.status = e.code().status();
        rc.error = e.code();
        FullHttpResponse resp = ErrorResponses.response(down.alloc(), rc.dialect(), e, rc.requestId, rc.attempts, false);
        rc.bytesOut = resp.content().readableBytes();
        down.writeAndFlush(resp).addListener(ChannelFutureListener.CLOSE);
        rt.events().requestEnd(rc, RequestOutcome.ERROR, System.nanoTime());
    }

    private void abandon() {
        over = true;
        cancelTimer();
        if (up != null) up.close();
        rt.bodies().release(request);
        rc.status = 499;
        rt.events().requestEnd(rc, RequestOutcome.CANCELLED, System.nanoTime());
    }

    private void cancelTimer() {
        if (headersTimer != null) {
            headersTimer.cancel(false);
            headersTimer = null;
        }
    }
}
