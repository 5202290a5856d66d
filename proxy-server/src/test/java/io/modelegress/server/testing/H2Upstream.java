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
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.DefaultHttp2GoAwayFrame;
import io.netty.handler.codec.http2.DefaultHttp2PingFrame;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2FrameLogger;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2PingFrame;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.logging.LogLevel;
import io.netty.handler.ssl.SslHandler;
import io.netty.pkitesting.CertificateBuilder;
import io.netty.pkitesting.X509Bundle;
import io.netty.util.AttributeKey;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real HTTP/2 server over TLS on loopback (Netty's own codec), signed by a test CA the sidecar trusts through
 * {@link #caBundle()}: it offers {@code h2,http/1.1} by ALPN (or only {@code http/1.1}), announces a
 * {@code SETTINGS_MAX_CONCURRENT_STREAMS}, counts the connections it accepted and the streams each carries at once,
 * and answers every request with a {@link Script} that can stream, reset the stream or send GOAWAY. It notes
 * every {@code RST_STREAM} the client sends ({@link #resetsReceived()}).
 */
public final class H2Upstream implements AutoCloseable {
    private static final AttributeKey<AtomicInteger> ACTIVE = AttributeKey.valueOf("h2upstream.active");
    private static final AttributeKey<Integer> CONN_ID = AttributeKey.valueOf("h2upstream.conn");

    /** What one request was: the protocol it came over, its connection, method, path, headers and body. */
    public record Received(String protocol, int connection, String method, String uri, Map<String, String> headers, String body) {
        public String header(String name) { return headers.get(name.toLowerCase(java.util.Locale.ROOT)); }
    }

    /** Answers one request; {@code r} writes on the request's own stream (or HTTP/1.1 connection). */
    @FunctionalInterface
    public interface Script {
        void answer(Request r) throws Exception;
    }

    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final Channel server;
    private final Path caBundle;
    private final AtomicInteger connections = new AtomicInteger();
    private final AtomicInteger maxStreamsSeen = new AtomicInteger();
    private final BlockingQueue<Received> received = new LinkedBlockingQueue<>();
    private final ConcurrentLinkedQueue<Integer> resetsReceived = new ConcurrentLinkedQueue<>();
    private volatile Script script = r -> r.json(200, "{\"ok\":true}");

    /** {@code offerH2} false: ALPN offers only http/1.1; {@code maxConcurrentStreams} 0: no limit announced. */
    public H2Upstream(Path dir, boolean offerH2, int maxConcurrentStreams) throws Exception {
        this(dir, offerH2, maxConcurrentStreams, new String[0]);
    }

    /** Its certificate also names {@code dnsNames} (a name a proxy resolves to 127.0.0.1). */
    public H2Upstream(Path dir, boolean offerH2, int maxConcurrentStreams, String... dnsNames) throws Exception {
        X509Bundle ca = new CertificateBuilder().subject("CN=model-egress h2 test CA").setIsCertificateAuthority(true)
                .algorithm(CertificateBuilder.Algorithm.ecp256).buildSelfSigned();
        CertificateBuilder leafBuilder = new CertificateBuilder().subject("CN=localhost").addSanDnsName("localhost")
                .addSanIpAddress("127.0.0.1").algorithm(CertificateBuilder.Algorithm.ecp256);
        for (String name : dnsNames) leafBuilder.addSanDnsName(name);
        X509Bundle leaf = leafBuilder.buildIssuedBy(ca);
        caBundle = dir.resolve("h2-ca.pem");
        Files.writeString(caBundle, ca.getCertificatePEM());
        List<String> protocols = offerH2 ? List.of(ApplicationProtocolNames.HTTP_2, ApplicationProtocolNames.HTTP_1_1)
                : List.of(ApplicationProtocolNames.HTTP_1_1);
        SslContext ssl = SslContextBuilder.forServer(leaf.toKeyManagerFactory())
                .applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
                        ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                        ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT, protocols))
                .build();
        server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.attr(CONN_ID).set(connections.incrementAndGet());
                        ch.attr(ACTIVE).set(new AtomicInteger());
                        SslHandler tls = ssl.newHandler(ch.alloc());
                        ch.pipeline().addLast(tls);
                        tls.handshakeFuture().addListener(hs -> {
                            if (!hs.isSuccess()) return;
                            if (ApplicationProtocolNames.HTTP_2.equals(tls.applicationProtocol())) h2(ch, maxConcurrentStreams);
                            else ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(1 << 20), new Answer("h1", ch));
                        });
                    }
                }).bind("127.0.0.1", 0).syncUninterruptibly().channel();
    }

    private void h2(Channel ch, int max) {
        Http2Settings settings = Http2Settings.defaultSettings();
        if (max > 0) settings.maxConcurrentStreams(max);
        Http2FrameLogger resets = new Http2FrameLogger(LogLevel.TRACE) {
            @Override
            public void logRstStream(Direction direction, ChannelHandlerContext ctx, int streamId, long errorCode) {
                if (direction == Direction.INBOUND) resetsReceived.add(streamId);
            }
        };
        ch.pipeline().addLast(Http2FrameCodecBuilder.forServer().initialSettings(settings).frameLogger(resets).build(),
                new Http2MultiplexHandler(new ChannelInitializer<Http2StreamChannel>() {
                    @Override
                    protected void initChannel(Http2StreamChannel child) {
                        AtomicInteger active = ch.attr(ACTIVE).get();
                        maxStreamsSeen.accumulateAndGet(active.incrementAndGet(), Math::max);
                        child.closeFuture().addListener(f -> active.decrementAndGet());
                        child.pipeline().addLast(new Http2StreamFrameToHttpObjectCodec(true), new HttpObjectAggregator(1 << 20),
                                new Answer("h2", ch));
                    }
                }));
    }

    public void script(Script s) { this.script = s; }

    public int port() { return ((java.net.InetSocketAddress) server.localAddress()).getPort(); }

    public String url() { return "https://127.0.0.1:" + port(); }

    /** The test CA's certificate, for {@code tls.ca_bundle}. */
    public Path caBundle() { return caBundle; }

    /** TCP connections accepted so far. */
    public int connections() { return connections.get(); }

    /** The stream ids of every {@code RST_STREAM} the client sent, on any connection, in order. */
    public List<Integer> resetsReceived() { return List.copyOf(resetsReceived); }

    /** The most streams one connection carried at once. */
    public int maxConcurrentStreamsSeen() { return maxStreamsSeen.get(); }

    public Received take() throws InterruptedException {
        Received r = received.poll(10, TimeUnit.SECONDS);
        if (r == null) throw new AssertionError("the h2 upstream received no request within 10 s");
        return r;
    }

    public List<Received> drain() {
        List<Received> out = new java.util.ArrayList<>();
        received.drainTo(out);
        return out;
    }

    @Override
    public void close() {
        server.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    /** One request being answered, on its own stream (h2) or connection (h1). */
    public static final class Request {
        public final Received received;
        public final Channel channel;
        public final Channel connection;

        Request(Received received, Channel channel, Channel connection) {
            this.received = received;
            this.channel = channel;
            this.connection = connection;
        }

        public boolean h2() { return channel instanceof Http2StreamChannel; }

        public void json(int status, String body) {
            FullHttpResponse resp = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(status),
                    Unpooled.copiedBuffer(body, StandardCharsets.UTF_8));
            resp.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/json")
                    .setInt(HttpHeaderNames.CONTENT_LENGTH, resp.content().readableBytes());
            channel.writeAndFlush(resp);
        }

        public void sseHead() {
            HttpResponse resp = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
            resp.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/event-stream");
            HttpUtil.setTransferEncodingChunked(resp, true);
            channel.writeAndFlush(resp);
        }

        public io.netty.channel.ChannelFuture event(String raw) {
            return channel.writeAndFlush(new DefaultHttpContent(Unpooled.copiedBuffer(raw, StandardCharsets.UTF_8)));
        }

        public void end() { channel.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT); }

        /** h2 only: RST_STREAM with INTERNAL_ERROR on this request's stream. */
        public void reset() { reset(Http2Error.INTERNAL_ERROR); }

        /** h2 only: RST_STREAM with {@code error} ({@code REFUSED_STREAM}: the server did not act on the request). */
        public void reset(Http2Error error) { channel.writeAndFlush(new DefaultHttp2ResetFrame(error)); }

        /**
         * h2 only: the graceful shutdown of RFC 9113 §6.8 on this request's connection: a GOAWAY with last-stream-id
         * 2^31-1 (no new streams, nothing refused) and a PING; when the PING's ACK is back (one round trip, so every
         * stream the client opened before it saw the first GOAWAY has arrived), a GOAWAY naming the last stream it
         * took. The streams it took still finish. (A fixed delay instead raced a loaded machine: a stream could
         * arrive after the second GOAWAY, and Netty's server counts its DATA as a connection error.)
         */
        public void gracefulGoAway() {
            connection.eventLoop().execute(() -> {
                connection.pipeline().addLast(new FinalGoAway());
                connection.write(new DefaultHttp2GoAwayFrame(Http2Error.NO_ERROR).setExtraStreamIds(Integer.MAX_VALUE));
                connection.writeAndFlush(new DefaultHttp2PingFrame(FinalGoAway.PING));
            });
        }

        /** h2 only: this request's stream id. */
        public int streamId() { return ((Http2StreamChannel) channel).stream().id(); }

        /**
         * h2 only: GOAWAY naming {@code lastStreamId}: the streams above it were not processed (they are closed here)
         * and the client may replay them elsewhere.
         */
        public void goAway(int lastStreamId) {
            connection.eventLoop().execute(() -> {
                io.netty.channel.ChannelHandlerContext ctx = connection.pipeline().context(io.netty.handler.codec.http2.Http2FrameCodec.class);
                ((io.netty.handler.codec.http2.Http2FrameCodec) ctx.handler()).goAway(ctx, lastStreamId, Http2Error.NO_ERROR.code(),
                        Unpooled.EMPTY_BUFFER, ctx.newPromise());
                ctx.flush();
            });
        }

        /** Runs {@code r} on the stream's loop after {@code millis}. */
        public void later(long millis, Runnable r) { channel.eventLoop().schedule(r, millis, TimeUnit.MILLISECONDS); }
    }

    /** The second GOAWAY of {@link Request#gracefulGoAway()}, at the ACK of its PING. */
    private static final class FinalGoAway extends io.netty.channel.ChannelInboundHandlerAdapter {
        static final long PING = 0x60A7A1L;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof Http2PingFrame && ((Http2PingFrame) msg).ack() && ((Http2PingFrame) msg).content() == PING) {
                ctx.writeAndFlush(new DefaultHttp2GoAwayFrame(Http2Error.NO_ERROR));
                ctx.pipeline().remove(this);
                return;
            }
            ctx.fireChannelRead(msg);
        }
    }

    private final class Answer extends SimpleChannelInboundHandler<FullHttpRequest> {
        private final String protocol;
        private final Channel connection;

        Answer(String protocol, Channel connection) {
            this.protocol = protocol;
            this.connection = connection;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) throws Exception {
            Map<String, String> headers = new TreeMap<>();
            req.headers().forEach(e -> headers.merge(e.getKey().toLowerCase(java.util.Locale.ROOT), e.getValue(), (a, b) -> a + "," + b));
            Received r = new Received(protocol, connection.attr(CONN_ID).get(), req.method().name(), req.uri(), headers,
                    req.content().toString(StandardCharsets.UTF_8));
            received.add(r);
            script.answer(new Request(r, ctx.channel(), connection));
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) { ctx.close(); }
    }
}
