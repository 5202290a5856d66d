package io.modelegress.server.loopback;

import io.modelegress.server.runtime.Transport;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.ssl.SslContext;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A fake model provider on 127.0.0.1:0 (optionally TLS) with its own event loop: each request is aggregated,
 * recorded and answered by the current {@link Script}, which may answer, stream, stall or cut the connection.
 * The training run answers from it ({@link Scripts#completion()}), and the integration tests script it with
 * the faults a real provider shows. Not for load: it records every request (the benchmark has its own mock).
 */
public final class ScriptedUpstream implements AutoCloseable {
    /** One recorded request: what reached the upstream (header names in lower case). */
    public record Received(String method, String uri, Map<String, List<String>> headers, String body) {
        public String header(String name) {
            for (var e : headers.entrySet()) if (e.getKey().equalsIgnoreCase(name)) return e.getValue().get(0);
            return null;
        }
    }

    /** Answers one request; runs on the upstream's event loop, so it must not block. */
    @FunctionalInterface
    public interface Script {
        void answer(ChannelHandlerContext ctx, FullHttpRequest req);
    }

    private final EventLoopGroup group;
    private final Channel server;
    private final BlockingQueue<Received> received = new LinkedBlockingQueue<>();
    private final List<Channel> connections = new CopyOnWriteArrayList<>();
    private final AtomicInteger accepted = new AtomicInteger();
    private volatile Script script;

    /**
     * Binds on loopback port 0 and returns once listening. {@code tls} null = plain HTTP; {@code maxBody}: the
     * largest request body it aggregates.
     */
    public ScriptedUpstream(Transport transport, String threadName, SslContext tls, int maxBody, Script script) {
        this.script = script;
        this.group = transport.newGroup(1, threadName);
        try {
            server = new ServerBootstrap().group(group).channel(transport.serverChannel())
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            accepted.incrementAndGet();
                            connections.add(ch);
                            if (tls != null) ch.pipeline().addLast(tls.newHandler(ch.alloc()));
                            ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(maxBody), new Answer());
                        }
                    })
                    .bind(new InetSocketAddress("127.0.0.1", 0)).syncUninterruptibly().channel();
        } catch (RuntimeException e) {
            group.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
            throw e;
        }
    }

    public void script(Script s) { this.script = s; }

    public int port() { return ((InetSocketAddress) server.localAddress()).getPort(); }

    public String url() { return "http://127.0.0.1:" + port(); }

    /** Connections accepted so far. */
    public int accepted() { return accepted.get(); }

    /** The next recorded request, or null if none arrives within {@code timeout}. */
    public Received poll(long timeout, TimeUnit unit) throws InterruptedException { return received.poll(timeout, unit); }

    /** Requests recorded and not yet taken. */
    public int receivedCount() { return received.size(); }

    /** True once every connection the upstream accepted has been closed. */
    public boolean allConnectionsClosed() { return connections.stream().noneMatch(Channel::isActive); }

    /** Closes every connection, as a server does to idle keep-alive connections; waits until they are closed. */
    public void closeConnections() {
        for (Channel c : connections) c.close().syncUninterruptibly();
    }

    @Override
    public void close() {
        server.close().awaitUninterruptibly();
        for (Channel c : connections) c.close();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
    }

    private final class Answer extends SimpleChannelInboundHandler<FullHttpRequest> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
            Map<String, List<String>> headers = new LinkedHashMap<>();
            for (String n : req.headers().names()) headers.put(n.toLowerCase(), req.headers().getAll(n));
            received.add(new Received(req.method().name(), req.uri(), headers, req.content().toString(StandardCharsets.UTF_8)));
            script.answer(ctx, req);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}
