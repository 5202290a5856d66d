package io.modelegress.server.testing;

import io.modelegress.server.loopback.ScriptedUpstream;
import io.modelegress.server.loopback.Scripts;
import io.modelegress.server.runtime.Transport;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.ssl.SslContext;
import java.util.concurrent.TimeUnit;

/**
 * The tests' scriptable upstream: the training run's {@link ScriptedUpstream} (on NIO, bodies up to 64 MiB)
 * answering {@code {}} until a test scripts it otherwise, plus the waits a test needs.
 */
public final class TestUpstream implements AutoCloseable {
    private static final Transport NIO = new Transport("nio", NioIoHandler.newFactory(), NioServerSocketChannel.class,
            NioSocketChannel.class, NioDatagramChannel.class);

    /** One recorded request: what reached the upstream. */
    public record Received(String method, String uri, java.util.Map<String, java.util.List<String>> headers, String body) {
        public String header(String name) {
            for (var e : headers.entrySet()) if (e.getKey().equalsIgnoreCase(name)) return e.getValue().get(0);
            return null;
        }
    }

    /** Answers one request; runs on the upstream's event loop. */
    @FunctionalInterface
    public interface Script extends ScriptedUpstream.Script {}

    private final ScriptedUpstream upstream;

    public TestUpstream() throws InterruptedException { this(null); }

    public TestUpstream(SslContext tls) throws InterruptedException {
        upstream = new ScriptedUpstream(NIO, "test-upstream", tls, 64 << 20, json(200, "{}"));
    }

    public void script(Script s) { upstream.script(s); }

    public int port() { return upstream.port(); }

    public String url() { return upstream.url(); }

    /** Connections accepted so far. */
    public int accepted() { return upstream.accepted(); }

    /** The next request that reached the upstream, waiting at most 10 s. */
    public Received take() throws InterruptedException {
        ScriptedUpstream.Received r = upstream.poll(10, TimeUnit.SECONDS);
        if (r == null) throw new AssertionError("no request reached the upstream within 10s");
        return new Received(r.method(), r.uri(), r.headers(), r.body());
    }

    public int receivedCount() { return upstream.receivedCount(); }

    /** True once every connection the upstream accepted has been closed. */
    public boolean allConnectionsClosed() { return upstream.allConnectionsClosed(); }

    /** Closes every connection the upstream holds, as a server does to idle keep-alive connections. */
    public void closeConnections() { upstream.closeConnections(); }

    public static Script json(int status, String body) {
        ScriptedUpstream.Script s = Scripts.json(status, body);
        return s::answer;
    }

    /** Starts an SSE response (chunked); write events with {@link #event}. */
    public static void sseHead(ChannelHandlerContext ctx) { Scripts.sseHead(ctx); }

    public static void event(ChannelHandlerContext ctx, String raw) { Scripts.event(ctx, raw); }

    /** Writes bytes as they are, past the HTTP encoder: framing a real server would never send. */
    public static void raw(ChannelHandlerContext ctx, String bytes) { Scripts.raw(ctx, bytes); }

    @Override
    public void close() { upstream.close(); }
}
