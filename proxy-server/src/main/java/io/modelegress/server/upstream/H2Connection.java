package io.modelegress.server.upstream;

import io.modelegress.core.error.EgressException;
import io.modelegress.core.error.ErrorCode;
import io.modelegress.server.http.HandlerNames;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.DefaultHttp2WindowUpdateFrame;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2GoAwayFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2SettingsFrame;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * One HTTP/2 connection to an upstream, last in its pipeline (after Netty's frame codec and multiplexer): it learns
 * the server's {@code SETTINGS_MAX_CONCURRENT_STREAMS}, stops taking streams after a {@code GOAWAY} (the streams
 * under way finish), counts the streams it carries and closes itself when idle, too old or drained. Touched only on
 * its own event loop.
 */
final class H2Connection extends ChannelInboundHandlerAdapter {
    static final String NAME = "h2-connection";
    /** Per stream: what the server may send ahead of the agent's reading (the h2 default, 64 KiB). */
    static final int STREAM_WINDOW = 65_535;
    /** Per connection: many paused streams must not stall the others, so far more than one stream's window. */
    static final int CONNECTION_WINDOW = 16 * 1024 * 1024;
    /** Streams per connection when the server's SETTINGS name no limit (RFC 9113: unlimited; Go's client takes 1000). */
    static final int ASSUMED_MAX_STREAMS = 1000;

    final Channel channel;
    final long createdNanos = System.nanoTime();
    private final Promise<Channel> settled;
    private int maxStreams = ASSUMED_MAX_STREAMS;
    private int streams;
    private int opened;
    private boolean goingAway;
    private boolean closed;
    /** Set when the pool adopts the connection: its counts and how it leaves the pool's list. */
    private ConnectionPool.Counts counts;
    private Runnable onClose;
    private long maxLifetimeNanos = Long.MAX_VALUE;

    private H2Connection(Channel channel, Promise<Channel> settled) {
        this.channel = channel;
        this.settled = settled;
    }

    /** True when TLS settled on h2 by ALPN. */
    static boolean negotiated(SslHandler ssl) {
        return ApplicationProtocolNames.HTTP_2.equals(ssl.applicationProtocol());
    }

    /**
     * Turns a connection whose TLS just picked h2 into an HTTP/2 one (in place of the HTTP/1.1 codec); the future
     * completes with the channel at the server's first SETTINGS, or fails after {@code settingsWithinMillis}.
     */
    static Future<Channel> install(Channel ch, long settingsWithinMillis, String upstream) {
        Promise<Channel> settled = ch.eventLoop().newPromise();
        H2Connection conn = new H2Connection(ch, settled);
        Http2FrameCodec codec = Http2FrameCodecBuilder.forClient()
                .initialSettings(Http2Settings.defaultSettings().pushEnabled(false).initialWindowSize(STREAM_WINDOW)
                        .maxHeaderListSize(UpstreamConnector.MAX_RESPONSE_HEADER_SIZE))
                .build();
        ch.pipeline().replace(HandlerNames.CLIENT_CODEC, HandlerNames.CLIENT_CODEC, codec);
        ch.pipeline().addAfter(HandlerNames.CLIENT_CODEC, "h2-multiplex", new Http2MultiplexHandler(NoPush.INSTANCE));
        ch.pipeline().addAfter("h2-multiplex", NAME, conn);
        ch.writeAndFlush(new DefaultHttp2WindowUpdateFrame(CONNECTION_WINDOW - 65_535));
        ScheduledFuture<?> guard = ch.eventLoop().schedule(() -> {
            if (settled.tryFailure(new EgressException(ErrorCode.UPSTREAM_PROTOCOL_ERROR, "upstream \"" + upstream
                    + "\" chose HTTP/2 but sent no SETTINGS within " + settingsWithinMillis + " ms"))) ch.close();
        }, Math.max(1, settingsWithinMillis), TimeUnit.MILLISECONDS);
        settled.addListener(f -> guard.cancel(false));
        ch.closeFuture().addListener(f -> settled.tryFailure(UpstreamFailures.closed(upstream, "before its HTTP/2 SETTINGS", null)));
        return settled;
    }

    static H2Connection of(Channel ch) { return (H2Connection) ch.pipeline().get(NAME); }

    /** The pool takes the connection: it counts as an idle connection until it carries a stream. False: already closed. */
    boolean adopt(ConnectionPool.Counts counts, long maxLifetimeNanos, Runnable onClose) {
        if (closed) return false;
        this.counts = counts;
        this.maxLifetimeNanos = maxLifetimeNanos;
        this.onClose = onClose;
        counts.idle.increment();
        return true;
    }

    int maxStreams() { return maxStreams; }

    /** Whether a new stream may go on this connection now. */
    boolean canTakeStream() {
        if (closed || goingAway || !channel.isActive()) return false;
        if (System.nanoTime() - createdNanos >= maxLifetimeNanos) {
            goingAway = true; // too old for new streams; closed once the last one ends
            if (streams == 0) channel.close();
            return false;
        }
        return streams < maxStreams;
    }

    /** Whether a stream was opened here before (a connection the server may have closed meanwhile). */
    boolean used() { return opened > 0; }

    /** A new stream, counted from now (the open completes on this loop, usually at once). */
    Future<Http2StreamChannel> openStream() {
        if (streams++ == 0 && counts != null && !closed) {
            counts.idle.decrement();
            counts.active.increment();
        }
        opened++;
        if (counts != null) counts.streams.increment();
        Future<Http2StreamChannel> f = new Http2StreamChannelBootstrap(channel).open();
        f.addListener(done -> {
            if (done.isSuccess()) ((Channel) done.getNow()).closeFuture().addListener(c -> streamClosed());
            else streamClosed();
        });
        return f;
    }

    private void streamClosed() {
        streams--;
        if (counts != null) counts.streams.decrement();
        if (streams == 0 && !closed && counts != null) {
            counts.active.decrement();
            counts.idle.increment();
        }
        if (streams == 0 && goingAway) channel.close();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        try {
            if (msg instanceof Http2SettingsFrame) {
                Long max = ((Http2SettingsFrame) msg).settings().maxConcurrentStreams();
                if (max != null) maxStreams = (int) Math.min(Integer.MAX_VALUE, max);
                settled.trySuccess(channel);
            } else if (msg instanceof Http2GoAwayFrame) {
                // The streams the server took finish; those above its last-stream-id are told by the multiplexer.
                goingAway = true;
                if (streams == 0) ctx.close();
            }
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof IdleStateEvent) {
            if (streams == 0) ctx.close();
            return;
        }
        ReferenceCountUtil.release(evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close(); // a connection error: every stream on it hears of the close
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (!closed) {
            closed = true;
            if (counts != null) {
                if (streams > 0) counts.active.decrement();
                else counts.idle.decrement();
            }
            if (onClose != null) onClose.run();
        }
        ctx.fireChannelInactive();
    }

    /** The server may not open streams (push is off): any it tries is closed. */
    @ChannelHandler.Sharable
    private static final class NoPush extends ChannelInboundHandlerAdapter {
        static final NoPush INSTANCE = new NoPush();

        @Override
        public void channelActive(ChannelHandlerContext ctx) { ctx.close(); }
    }
}
