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
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.ssl.SslContext;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A scriptable upstream on 127.0.0.1:0 (optionally TLS): each request is recorded and answered by the current
 * {@link Script}, which can stream, stall, or cut the connection — the faults a real provider shows.
 */
public final class TestUpstream implements AutoCloseable {
    /** One recorded request: what reached the upstream. */
    public record Received(String method, String uri, Map<String, List<String>> headers, String body) {
        public String header(String name) {
            for (var e : headers.entrySet()) if (e.getKey().equalsIgnoreCase(name)) return e.getValue().get(0);
            return null;
        }
    }

    /** Answers one request; runs on the upstream's event loop. */
    public interface Script {
        void answer(ChannelHandlerContext ctx, FullHttpRequest req);
    }

    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final Channel server;
    private final BlockingQueue<Received> received = new LinkedBlockingQueue<>();
    private final List<Channel> connections = new CopyOnWriteArrayList<>();
    private final AtomicInteger accepted = new AtomicInteger();
    private volatile Script script = json(200, "{}");

    public TestUpstream() throws InterruptedException { this(null); }

    public TestUpstream(SslContext tls) throws InterruptedException {
        server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        accepted.incrementAndGet();
                        connections.add(ch);
                        if (tls != null) ch.pipeline().addLast(tls.newHandler(ch.alloc()));
                        ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(64 << 20),
                                new SimpleChannelInboundHandler<FullHttpRequest>() {
                                    @Override
                                    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
                                        received.add(new Received(req.method().name(), req.uri(), headers(req),
                                                req.content().toString(StandardCharsets.UTF_8)));
                                        script.answer(ctx, req);
                                    }

                                    @Override
                                    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                                        ctx.close();
                                    }
                                });
                    }
                }).bind("127.0.0.1", 0).sync().channel();
    }

    private static Map<String, List<String>> headers(FullHttpRequest req) {
        Map<String, List<String>> m = new java.util.LinkedHashMap<>();
        for (String n : req.headers().names()) m.put(n.toLowerCase(), req.headers().getAll(n));
        return m;
    }

    public void script(Script s) { this.script = s; }

    public int port() { return ((InetSocketAddress) server.localAddress()).getPort(); }

    public String url() { return "http://127.0.0.1:" + port(); }

    /** Connections accepted so far. */
    public int accepted() { return accepted.get(); }

    /** The next request that reached the upstream, waiting at most 10 s. */
    public Received take() throws InterruptedException {
        Received r = received.poll(10, TimeUnit.SECONDS);
        if (r == null) throw new AssertionError("no request reached the upstream within 10s");
        return r;
    }

    public int receivedCount() { return received.size(); }

    /** True once every connection the upstream accepted has been closed. */
    public boolean allConnectionsClosed() {
        return connections.stream().noneMatch(Channel::isActive);
    }

    /** Closes every connection the upstream holds, as a server does to idle keep-alive connections. */
    public void closeConnections() {
        for (Channel c : connections) c.close().syncUninterruptibly();
    }

    public static Script json(int status, String body) {
        return (ctx, req) -> {
            FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(status),
                    Unpooled.copiedBuffer(body, StandardCharsets.UTF_8));
            r.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/json").setInt(HttpHeaderNames.CONTENT_LENGTH, r.content().readableBytes());
            HttpUtil.setKeepAlive(r, HttpUtil.isKeepAlive(req));
            ctx.writeAndFlush(r);
        };
    }

    /** Starts an SSE response (chunked); write events with {@link #event}. */
    public static void sseHead(ChannelHandlerContext ctx) {
        HttpResponse r = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/event-stream").set(HttpHeaderNames.CACHE_CONTROL, "no-cache");
        HttpUtil.setTransferEncodingChunked(r, true);
        ctx.writeAndFlush(r);
    }

    public static void event(ChannelHandlerContext ctx, String raw) {
        ctx.writeAndFlush(new DefaultHttpContent(Unpooled.copiedBuffer(raw, StandardCharsets.UTF_8)));
    }

    /** Writes bytes as they are, past the HTTP encoder: framing a real server would never send. */
    public static void raw(ChannelHandlerContext ctx, String bytes) {
        ctx.pipeline().firstContext().writeAndFlush(Unpooled.copiedBuffer(bytes, StandardCharsets.ISO_8859_1));
    }

    @Override
    public void close() {
        server.close().awaitUninterruptibly();
        for (Channel c : connections) c.close();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
    }
}
