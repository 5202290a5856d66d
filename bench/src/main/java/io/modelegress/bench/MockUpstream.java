package io.modelegress.bench;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * A chat-completions upstream for benchmarks, on loopback only.
 *
 * <pre>
 * java -jar bench.jar --port 18081 [--delay-ms 1] [--sse-chunks 50] [--chunk-interval-ms 20]
 *                     [--threads 1] [--stats-file FILE] [--host 127.0.0.1]
 *                     [--tls-cert cert.pem --tls-key key.pem [--h2-max-streams 1000]]
 * </pre>
 * With {@code --tls-cert} it speaks TLS and offers h2 by ALPN ({@link MockH2}).
 *
 * POST bodies with {@code "stream": true} get SSE, anything else a ~300-byte JSON completion. With
 * {@code --stats-file} one line per second is appended ({@code epoch_second started completed max_in_flight}); on
 * exit a summary with the highest concurrency seen goes to stdout.
 */
public final class MockUpstream {
    private MockUpstream() {}

    public static void main(String[] argv) throws Exception {
        CliArgs a;
        try {
            a = new CliArgs(argv, "port", "host", "delay-ms", "sse-chunks", "chunk-interval-ms", "threads", "stats-file",
                    "tls-cert", "tls-key", "h2-max-streams");
        } catch (IllegalArgumentException e) {
            System.err.println("mock-upstream: " + e.getMessage());
            System.exit(2);
            return;
        }
        String host = a.string("host", "127.0.0.1");
        int port = a.integer("port", 18081);
        var behaviour = new MockUpstreamHandler.Behaviour(a.longValue("delay-ms", 1), a.integer("sse-chunks", 50),
                a.longValue("chunk-interval-ms", 20));
        int threads = a.integer("threads", 1);
        String statsFile = a.string("stats-file", null);

        LoadStats stats = new LoadStats();
        BenchTransport transport = BenchTransport.best();
        EventLoopGroup group = transport.group(threads, "mock-io");
        String cert = a.string("tls-cert", null);
        io.netty.handler.ssl.SslContext tls = cert == null ? null : MockH2.context(cert, a.string("tls-key", null));
        Channel server = bind(transport, group, new InetSocketAddress(host, port), behaviour, stats, tls,
                a.integer("h2-max-streams", 1000));
        Thread ticker = stats.startSecondTicker(statsFile == null ? null : Path.of(statsFile), null);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            ticker.interrupt();
            server.close().awaitUninterruptibly(1, TimeUnit.SECONDS);
            group.shutdownGracefully(0, 200, TimeUnit.MILLISECONDS).awaitUninterruptibly(2, TimeUnit.SECONDS);
            System.out.println(stats.summary());
            System.out.flush();
        }, "mock-shutdown"));
        System.out.println("mock-upstream listening on " + server.localAddress() + " (" + transport.name() + ", " + threads
                + " threads, delay " + behaviour.delayMs() + " ms, sse " + behaviour.sseChunks() + " chunks every "
                + behaviour.chunkIntervalMs() + " ms" + (tls == null ? "" : ", TLS with h2") + ")");
        System.out.flush();
        server.closeFuture().await();
    }

    /** Binds the mock; also used by tests on port 0. */
    static Channel bind(BenchTransport transport, EventLoopGroup group, InetSocketAddress address,
                        MockUpstreamHandler.Behaviour behaviour, LoadStats stats) throws InterruptedException {
        return bind(transport, group, address, behaviour, stats, null, 0);
    }

    /** {@code tls} non-null: TLS, and h2 when the client picks it by ALPN. */
    static Channel bind(BenchTransport transport, EventLoopGroup group, InetSocketAddress address,
                        MockUpstreamHandler.Behaviour behaviour, LoadStats stats, io.netty.handler.ssl.SslContext tls,
                        int h2MaxStreams) throws InterruptedException {
        return new ServerBootstrap()
                .group(group)
                .channel(transport.serverChannel())
                .option(ChannelOption.SO_BACKLOG, 4096)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        if (tls != null) {
                            MockH2.init(ch, tls, h2MaxStreams, behaviour, stats);
                            return;
                        }
                        ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(1 << 20),
                                new MockUpstreamHandler(behaviour, stats));
                    }
                })
                .bind(address).sync().channel();
    }
}
