package io.modelegress.server.testing;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketServerHandshaker;
import io.netty.handler.codec.http.websocketx.WebSocketServerHandshakerFactory;
import io.netty.handler.ssl.SslContext;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A loopback WebSocket server built on Netty's server codecs, standing in for the Realtime API: it records each
 * upgrade request, then echoes text as {@code echo:<text>} and binary frames as they came, answers pings with
 * pongs, and answers a close with the same code and reason (recorded). {@link #greeting} is sent right after the
 * 101; {@link #refuseWith} answers upgrades with an HTTP error instead.
 */
public final class WebSocketUpstream implements AutoCloseable {
    /** One upgrade request as it reached the upstream. */
    public record Upgrade(String uri, Map<String, List<String>> headers) {
        public String header(String name) {
            List<String> v = headers.get(name.toLowerCase(java.util.Locale.ROOT));
            return v == null ? null : v.get(0);
        }
    }

    /** A close frame the upstream received. */
    public record Close(int code, String reason) {}

    /** A ping or pong the upstream received ({@code type} "ping" or "pong"), with its payload. */
    public record Control(String type, byte[] payload) {}

    /** A binary message the upstream took in while {@link #sinkBinary} is on: its size, and its one byte value (-1: mixed). */
    public record Sunk(int size, int value) {}

    /**
     * A flood of {@code frames} binary frames of {@code size} bytes, frame i filled with the byte {@code (byte) i}:
     * written only while the socket is writable (so the upstream itself buffers at most one frame past its high-water
     * mark), resumed when it drains. {@link #unwritable} completes the first time the socket filled up.
     */
    public static final class Flood {
        final int frames;
        final int size;
        volatile int written;
        public final CompletableFuture<Void> unwritable = new CompletableFuture<>();
        public final CompletableFuture<Void> done = new CompletableFuture<>();

        Flood(int frames, int size) {
            this.frames = frames;
            this.size = size;
        }

        public int written() { return written; }
    }

    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final Channel server;
    private final BlockingQueue<Upgrade> upgrades = new LinkedBlockingQueue<>();
    private final BlockingQueue<Close> closes = new LinkedBlockingQueue<>();
    private final CompletableFuture<Channel> socket = new CompletableFuture<>();
    private final BlockingQueue<Control> controls = new LinkedBlockingQueue<>();
    private final BlockingQueue<Sunk> sunk = new LinkedBlockingQueue<>();
    private volatile Flood flood;
    private volatile boolean sinkBinary;
    private volatile String greeting;
    private volatile String subprotocols = "realtime";
    private volatile int refuseStatus;
    private volatile String refuseBody;

    public WebSocketUpstream() throws InterruptedException { this(null); }

    public WebSocketUpstream(SslContext tls) throws InterruptedException {
        server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        if (tls != null) ch.pipeline().addLast(tls.newHandler(ch.alloc()));
                        ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(65536), new Handshake());
                    }
                }).bind("127.0.0.1", 0).sync().channel();
    }

    public int port() { return ((java.net.InetSocketAddress) server.localAddress()).getPort(); }

    /** A text frame the upstream sends as soon as it answered 101 (before the agent sends anything). */
    public WebSocketUpstream greeting(String text) { greeting = text; return this; }

    /** Upgrades are answered {@code status} with {@code body}, as a provider refusing a key or a model would. */
    public WebSocketUpstream refuseWith(int status, String body) {
        refuseStatus = status;
        refuseBody = body;
        return this;
    }

    /** The next upgrade request that reached the upstream, waiting at most 10 s. */
    public Upgrade take() throws InterruptedException {
        Upgrade u = upgrades.poll(10, TimeUnit.SECONDS);
        if (u == null) throw new AssertionError("no WebSocket upgrade reached the upstream within 10s");
        return u;
    }

    public int upgradesSeen() { return upgrades.size(); }

    /** The next close frame the upstream received, waiting at most 10 s. */
    public Close takeClose() throws InterruptedException {
        Close c = closes.poll(10, TimeUnit.SECONDS);
        if (c == null) throw new AssertionError("no close frame reached the upstream within 10s");
        return c;
    }

    /** The upstream starts the close handshake with {@code code} and {@code reason} on the first socket. */
    public void close(int code, String reason) throws Exception {
        Channel ch = socket.get(10, TimeUnit.SECONDS);
        ch.eventLoop().execute(() -> ch.writeAndFlush(new CloseWebSocketFrame(code, reason)));
    }

    /** The next ping or pong the upstream received, waiting at most 10 s. */
    public Control takeControl() throws InterruptedException {
        Control c = controls.poll(10, TimeUnit.SECONDS);
        if (c == null) throw new AssertionError("no ping or pong reached the upstream within 10s");
        return c;
    }

    /** The upstream sends a ping with {@code payload} on the first socket. */
    public void ping(byte[] payload) throws Exception {
        Channel ch = socket.get(10, TimeUnit.SECONDS);
        ch.eventLoop().execute(() -> ch.writeAndFlush(new PingWebSocketFrame(Unpooled.wrappedBuffer(payload))));
    }

    /** The upstream starts a {@link Flood} on the first socket. */
    public Flood flood(int frames, int size) throws Exception {
        Channel ch = socket.get(10, TimeUnit.SECONDS);
        Flood f = new Flood(frames, size);
        flood = f;
        ch.eventLoop().execute(() -> pump(ch));
        return f;
    }

    private void pump(Channel ch) {
        Flood f = flood;
        if (f == null || f.done.isDone()) return;
        while (f.written < f.frames && ch.isWritable()) {
            byte[] b = new byte[f.size];
            java.util.Arrays.fill(b, (byte) f.written++); // counted first: a write may re-enter pump (writability)
            ch.writeAndFlush(new BinaryWebSocketFrame(Unpooled.wrappedBuffer(b)));
        }
        if (!ch.isWritable()) f.unwritable.complete(null);
        if (f.written == f.frames) f.done.complete(null);
    }

    /** From now on binary frames are not echoed but summed up ({@link #takeSunk}). */
    public WebSocketUpstream sinkBinary() { sinkBinary = true; return this; }

    /** The next binary message taken in while sinking, waiting at most 10 s. */
    public Sunk takeSunk() throws InterruptedException {
        Sunk s = sunk.poll(10, TimeUnit.SECONDS);
        if (s == null) throw new AssertionError("no binary message reached the upstream within 10s");
        return s;
    }

    /** The upstream stops ({@code false}) or resumes reading its first socket, as a slow consumer would. */
    public void reading(boolean on) throws Exception {
        Channel ch = socket.get(10, TimeUnit.SECONDS);
        ch.eventLoop().execute(() -> {
            ch.config().setAutoRead(on);
            if (on) ch.read();
        });
    }

    private final class Handshake extends SimpleChannelInboundHandler<FullHttpRequest> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
            Map<String, List<String>> h = new HashMap<>();
            for (String name : req.headers().names()) h.put(name.toLowerCase(java.util.Locale.ROOT), req.headers().getAll(name));
            upgrades.add(new Upgrade(req.uri(), h));
            if (refuseStatus != 0) {
                byte[] body = refuseBody.getBytes(StandardCharsets.UTF_8);
                FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(refuseStatus),
                        Unpooled.wrappedBuffer(body));
                r.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/json").setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
                ctx.writeAndFlush(r);
                return;
            }
            WebSocketServerHandshaker hs = new WebSocketServerHandshakerFactory("ws://upstream" + req.uri(), subprotocols, false, 1 << 24)
                    .newHandshaker(req);
            ctx.pipeline().addLast(new Echo());
            hs.handshake(ctx.channel(), req).addListener(f -> {
                if (!f.isSuccess()) return;
                socket.complete(ctx.channel());
                if (greeting != null) ctx.writeAndFlush(new TextWebSocketFrame(greeting));
            });
        }
    }

    private final class Echo extends SimpleChannelInboundHandler<WebSocketFrame> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, WebSocketFrame f) {
            if (f instanceof TextWebSocketFrame t) {
                ctx.writeAndFlush(new TextWebSocketFrame("echo:" + t.text()));
            } else if (f instanceof BinaryWebSocketFrame && sinkBinary) {
                sunk.add(new Sunk(f.content().readableBytes(), uniform(f.content())));
            } else if (f instanceof BinaryWebSocketFrame) {
                ctx.writeAndFlush(new BinaryWebSocketFrame(f.content().retain()));
            } else if (f instanceof PingWebSocketFrame) {
                controls.add(new Control("ping", io.netty.buffer.ByteBufUtil.getBytes(f.content())));
                ctx.writeAndFlush(new PongWebSocketFrame(f.content().retain()));
            } else if (f instanceof PongWebSocketFrame) {
                controls.add(new Control("pong", io.netty.buffer.ByteBufUtil.getBytes(f.content())));
            } else if (f instanceof CloseWebSocketFrame c) {
                closes.add(new Close(c.statusCode(), c.reasonText()));
                ctx.writeAndFlush(new CloseWebSocketFrame(c.statusCode(), c.reasonText()))
                        .addListener(io.netty.channel.ChannelFutureListener.CLOSE);
            }
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            pump(ctx.channel());
            ctx.fireChannelWritabilityChanged();
        }
    }

    private static int uniform(io.netty.buffer.ByteBuf buf) {
        byte[] b = io.netty.buffer.ByteBufUtil.getBytes(buf); // one copy: per-byte reads of a leak-aware buffer crawl
        if (b.length == 0) return -1;
        for (byte x : b) if (x != b[0]) return -1;
        return b[0] & 0xff;
    }

    @Override
    public void close() {
        server.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
