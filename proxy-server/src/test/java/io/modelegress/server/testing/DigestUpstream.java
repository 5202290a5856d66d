package io.modelegress.server.testing;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A loopback upstream for uploads: it holds nothing, counting and digesting each body as it arrives, and answers
 * {@code {"bytes":N,"sha256":"…"}} after its last byte. {@code resetAfter} bytes (when positive) it closes the
 * connection instead, mid-body.
 */
public final class DigestUpstream implements AutoCloseable {
    /** What one request brought: its head's headers (lower-case names), its size and digest. */
    public record Upload(String method, String uri, Map<String, String> headers, long bytes, String sha256) {
        public String header(String name) { return headers.get(name); }
    }

    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final Channel server;
    private final long resetAfter;
    private final AtomicInteger accepted = new AtomicInteger();
    private final AtomicInteger heads = new AtomicInteger();
    private final LinkedBlockingQueue<Upload> uploads = new LinkedBlockingQueue<>();

    public DigestUpstream() throws InterruptedException { this(0); }

    public DigestUpstream(long resetAfter) throws InterruptedException {
        this.resetAfter = resetAfter;
        server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        accepted.incrementAndGet();
                        ch.pipeline().addLast(new HttpServerCodec(8192, 65536, 65536), new Counter());
                    }
                }).bind("127.0.0.1", 0).sync().channel();
    }

    public String url() { return "http://127.0.0.1:" + ((java.net.InetSocketAddress) server.localAddress()).getPort(); }

    public int accepted() { return accepted.get(); }

    /** Request heads received so far. */
    public int heads() { return heads.get(); }

    /** The next complete upload, waiting at most {@code seconds}. */
    public Upload take(long seconds) throws InterruptedException {
        Upload u = uploads.poll(seconds, TimeUnit.SECONDS);
        if (u == null) throw new AssertionError("no complete upload reached the upstream within " + seconds + "s");
        return u;
    }

    private final class Counter extends SimpleChannelInboundHandler<HttpObject> {
        private HttpRequest head;
        private Map<String, String> headers;
        private MessageDigest digest;
        private long bytes;

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, HttpObject msg) throws Exception {
            if (msg instanceof HttpRequest r) {
                heads.incrementAndGet();
                head = r;
                headers = new ConcurrentHashMap<>();
                r.headers().forEach(e -> headers.put(e.getKey().toLowerCase(java.util.Locale.ROOT), e.getValue()));
                digest = MessageDigest.getInstance("SHA-256");
                bytes = 0;
            }
            if (msg instanceof HttpContent c && digest != null) {
                ByteBuf b = c.content();
                bytes += b.readableBytes();
                digest.update(b.nioBuffer());
                if (resetAfter > 0 && bytes >= resetAfter) {
                    digest = null;
                    ctx.channel().config().setOption(io.netty.channel.ChannelOption.SO_LINGER, 0);
                    ctx.close();
                    return;
                }
                if (msg instanceof LastHttpContent) {
                    String sha = HexFormat.of().formatHex(digest.digest());
                    digest = null;
                    uploads.add(new Upload(head.method().name(), head.uri(), headers, bytes, sha));
                    byte[] json = ("{\"bytes\":" + bytes + ",\"sha256\":\"" + sha + "\"}").getBytes(StandardCharsets.UTF_8);
                    var resp = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK, Unpooled.wrappedBuffer(json));
                    resp.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/json").setInt(HttpHeaderNames.CONTENT_LENGTH, json.length);
                    ctx.writeAndFlush(resp).addListener(ChannelFutureListener.CLOSE_ON_FAILURE);
                }
            }
        }
    }

    @Override
    public void close() {
        server.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
