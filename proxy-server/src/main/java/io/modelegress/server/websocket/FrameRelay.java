package io.modelegress.server.websocket;

import io.micrometer.core.instrument.Counter;
import io.modelegress.core.time.Durations;
import io.modelegress.core.time.Ticker;
import io.modelegress.server.events.AccessLog;
import io.modelegress.server.http.RequestContext;
import io.modelegress.server.metrics.EgressMetrics;
import io.modelegress.server.ops.Drain;
import io.modelegress.server.runtime.EgressRuntime;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.ContinuationWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CorruptedWebSocketFrameException;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Relays the frames of one WebSocket both ways once both sides said 101, on the agent channel's event loop (the
 * upstream channel shares it). Frames pass as they are, pings, pongs and close codes included; a side's reads stop
 * while the other side cannot take more (back-pressure). The relay ends the socket itself only for its own limits —
 * no frame either way for {@code timeouts.websocket_idle} (1001), a message over {@code server.websocket_max_message}
 * (1009), a drain deadline (1001) — or when one side's connection goes away without a close frame.
 */
final class FrameRelay implements Drain.Socket {
    /** After one side's close frame, how long the other side has to answer with its own before both are closed. */
    static final Duration CLOSE_GRACE = Duration.ofSeconds(5);
    private static final String RELAY = "ws-relay";

    private final EgressRuntime rt;
    private final RequestContext rc;
    private final Drain drain;
    private final Ticker ticker;
    private final EgressMetrics metrics;
    private final long idleNanos;
    private final long maxMessage;
    private final Side agent;
    private final Side upstream;
    private long lastFrameNanos;
    private ScheduledFuture<?> timer;
    private boolean closing;
    /** The side whose close frame came first ("agent" or "upstream"): the reason the socket is counted under. */
    private String initiator;
    private boolean ended;

    FrameRelay(EgressRuntime rt, RequestContext rc, Drain drain, Channel agentChannel, Channel upstreamChannel,
               Duration idle, long maxMessage) {
        this.rt = rt;
        this.rc = rc;
        this.drain = drain;
        this.ticker = rt.ticker();
        this.metrics = rt.metrics();
        this.idleNanos = idle.toNanos();
        this.maxMessage = maxMessage;
        this.agent = new Side("agent", agentChannel, metrics.websocketFrames(rc.routeName(), "to_upstream"));
        this.upstream = new Side("upstream", upstreamChannel, metrics.websocketFrames(rc.routeName(), "to_agent"));
        agent.peer = upstream;
        upstream.peer = agent;
    }

    /** Both handshakes are done: take the frames the upstream sent behind its 101, then read both sides. */
    void start(EarlyFrames early) {
        metrics.websocketOpened();
        drain.opened(this);
        lastFrameNanos = ticker.nanos();
        armIdle(idleNanos);
        agent.channel.pipeline().addLast(RELAY, agent);
        boolean upstreamGone = early.handOver(f -> relay(upstream, f));
        upstream.channel.pipeline().replace(EarlyFrames.class, RELAY, upstream);
        if (upstreamGone || !upstream.channel.isActive()) gone(upstream);
        if (!agent.channel.isActive()) gone(agent);
        if (!ended) {
            agent.channel.config().setAutoRead(true);
            upstream.channel.config().setAutoRead(true);
        }
    }

    /** A frame {@code from} read: to the other side as it is, unless a limit ends the socket. */
    private void relay(Side from, WebSocketFrame f) {
        if (ended || from.closeReceived) {
            f.release();
            return;
        }
        lastFrameNanos = ticker.nanos();
        from.frames.increment();
        if (f instanceof CloseWebSocketFrame close) {
            onClose(from, close);
            return;
        }
        if (!(f instanceof PingWebSocketFrame) && !(f instanceof PongWebSocketFrame)) {
            long size = (f instanceof ContinuationWebSocketFrame ? from.messageBytes : 0) + f.content().readableBytes();
            from.messageBytes = f.isFinalFragment() ? 0 : size;
            if (size > maxMessage) {
                f.release();
                String why = "message over " + maxMessage + " bytes (server.websocket_max_message)";
                terminate("message_too_big", from, WebSocketCloseStatus.MESSAGE_TOO_BIG.code(), why,
                        WebSocketCloseStatus.ENDPOINT_UNAVAILABLE.code(), "the peer's " + why);
                return;
            }
        }
        if (from == agent) rc.bytesIn += f.content().readableBytes();
        else rc.bytesOut += f.content().readableBytes();
        Side to = from.peer;
        if (to.closeSent) { // that side has its close frame: nothing may follow it
            f.release();
            return;
        }
        to.channel.writeAndFlush(f, to.channel.voidPromise());
        if (!to.channel.isWritable()) from.channel.config().setAutoRead(false);
    }

    /** A close frame from one side goes to the other; the socket is over once both sides sent theirs. */
    private void onClose(Side from, CloseWebSocketFrame close) {
        from.closeReceived = true;
        if (!closing) {
            closing = true;
            initiator = from.name;
            rc.websocket = close.statusCode() + " " + from.name;
            rescheduleTimer(CLOSE_GRACE.toNanos());
        }
        Side to = from.peer;
        if (to.closeSent) close.release();
        else {
            to.closeSent = true;
            to.channel.writeAndFlush(close, to.channel.voidPromise());
        }
        if (from.closeSent) finish(initiator); // this was the answer to the other side's close
    }

    /** One side's connection is gone: the other gets a close frame if it has none yet. */
    private void gone(Side side) {
        if (ended) return;
        if (closing) {
            finish(initiator); // the close handshake ended with (or was cut by) the TCP close
            return;
        }
        side.closeSent = true; // nothing more can be sent there
        int code = side == agent ? WebSocketCloseStatus.ENDPOINT_UNAVAILABLE.code() : WebSocketCloseStatus.INTERNAL_SERVER_ERROR.code();
        terminate(side.name + "_gone", side, 0, null, code, side == agent ? "the agent went away"
                : "the upstream closed the connection without a close frame");
    }

    /**
     * The sidecar ends the socket: {@code offender} gets {@code codeToIt}, the other side {@code codeToPeer} (a code of
     * 0: that side gets nothing), then both connections close.
     */
    private void terminate(String reason, Side offender, int codeToIt, String whyToIt, int codeToPeer, String whyToPeer) {
        if (ended) return;
        if (!closing) rc.websocket = codeToPeer + " " + reason;
        sendClose(offender, codeToIt, whyToIt);
        sendClose(offender.peer, codeToPeer, whyToPeer);
        finish(reason);
    }

    private void sendClose(Side to, int code, String why) {
        if (code == 0 || to.closeSent || !to.channel.isActive()) return;
        to.closeSent = true;
        to.channel.writeAndFlush(new CloseWebSocketFrame(code, reason(why)));
    }

    /** Once: both connections close after what was written, the timer stops, and the socket is counted and logged. */
    private void finish(String reason) {
        if (ended) return;
        ended = true;
        if (timer != null) timer.cancel(false);
        for (Side s : new Side[] {agent, upstream}) {
            s.channel.writeAndFlush(io.netty.buffer.Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        }
        metrics.websocketClosed(rc.routeName(), reason);
        drain.closed(this);
        AccessLog.write(rc, System.nanoTime());
    }

    /** The drain deadline came: both sides get 1001, on the socket's own event loop. */
    @Override
    public void shutDown() {
        agent.channel.eventLoop().execute(() -> terminate("shutdown", agent, WebSocketCloseStatus.ENDPOINT_UNAVAILABLE.code(),
                "the sidecar is shutting down", WebSocketCloseStatus.ENDPOINT_UNAVAILABLE.code(), "the sidecar is shutting down"));
    }

    private void armIdle(long delayNanos) {
        timer = agent.channel.eventLoop().schedule(this::onTimer, delayNanos, TimeUnit.NANOSECONDS);
    }

    private void rescheduleTimer(long delayNanos) {
        if (timer != null) timer.cancel(false);
        armIdle(delayNanos);
    }

    /** The idle limit, or (once closing) the close grace: the one timer of the socket. */
    private void onTimer() {
        if (ended) return;
        if (closing) {
            finish(initiator);
            return;
        }
        long quiet = ticker.nanos() - lastFrameNanos;
        if (quiet < idleNanos) {
            armIdle(idleNanos - quiet);
            return;
        }
        String why = "no frame either way for " + Durations.format(Duration.ofNanos(idleNanos)) + " (timeouts.websocket_idle)";
        int code = WebSocketCloseStatus.ENDPOINT_UNAVAILABLE.code();
        terminate("idle", agent, code, why, code, why);
    }

    /** A close reason fits in 123 bytes of UTF-8 (RFC 6455 5.5): ours are ASCII, cut if ever longer. */
    private static String reason(String why) {
        if (why == null) return "";
        byte[] b = why.getBytes(StandardCharsets.UTF_8);
        return b.length <= 123 ? why : new String(b, 0, 123, StandardCharsets.US_ASCII);
    }

    /** One side: its channel, its state in the close handshake, and the frames it sent. */
    private final class Side extends ChannelInboundHandlerAdapter {
        final String name;
        final Channel channel;
        final Counter frames;
        Side peer;
        long messageBytes;
        boolean closeSent;
        boolean closeReceived;

        Side(String name, Channel channel, Counter frames) {
            this.name = name;
            this.channel = channel;
            this.frames = frames;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof WebSocketFrame f) relay(this, f);
            else ReferenceCountUtil.release(msg);
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            if (channel.isWritable() && !ended) peer.channel.config().setAutoRead(true);
            ctx.fireChannelWritabilityChanged();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            gone(this);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            if (cause instanceof CorruptedWebSocketFrameException c && c.closeStatus() != null
                    && c.closeStatus().code() == WebSocketCloseStatus.MESSAGE_TOO_BIG.code()) {
                // The decoder answered that side 1009 itself (a single frame over the limit).
                closeSent = true;
                String why = "the peer's message over " + maxMessage + " bytes (server.websocket_max_message)";
                terminate("message_too_big", this, 0, null, WebSocketCloseStatus.ENDPOINT_UNAVAILABLE.code(), why);
                return;
            }
            closeSent = closeSent || !channel.isActive();
            String why = "the " + name + " broke the WebSocket protocol";
            terminate("error", this, WebSocketCloseStatus.PROTOCOL_ERROR.code(), why,
                    WebSocketCloseStatus.INTERNAL_SERVER_ERROR.code(), why);
        }
    }
}
