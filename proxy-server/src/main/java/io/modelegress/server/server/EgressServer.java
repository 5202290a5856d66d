package io.modelegress.server.server;

import io.modelegress.core.config.EgressConfig;
import io.modelegress.core.config.HostPort;
import io.modelegress.core.time.Ticker;
import io.modelegress.server.admin.AdminHandler;
import io.modelegress.server.metrics.EgressMetrics;
import io.modelegress.server.pipeline.DownstreamInitializer;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Binds the agent port and the admin port and owns the event loops; {@link #stop} drains and closes them. */
public final class EgressServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(EgressServer.class);

    private final Transport transport = Transport.best();
    private final EgressMetrics metrics = new EgressMetrics();
    private final AtomicReference<EgressRuntime> runtime = new AtomicReference<>();
    private final Map<String, String> env;
    private final EventLoopGroup boss;
    private final EventLoopGroup workers;
    private Channel agentChannel;
    private Channel adminChannel;
    private volatile boolean ready;

    public EgressServer(EgressConfig config, Map<String, String> env) throws Exception {
        this.env = env;
        this.boss = transport.newGroup(1, "egress-accept");
        this.workers = transport.newGroup(Integer.getInteger("modelegress.threads", Runtime.getRuntime().availableProcessors()), "egress-io");
        try {
            this.runtime.set(new EgressRuntime(config, env, transport, metrics, Ticker.SYSTEM, workers));
        } catch (Exception e) {
            workers.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
            boss.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
            throw e;
        }
    }

    public EgressServer start() throws Exception {
        EgressConfig cfg = runtime.get().config();
        agentChannel = new ServerBootstrap()
                .group(boss, workers)
                .channel(transport.serverChannel())
                .option(ChannelOption.SO_BACKLOG, 1024)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.ALLOCATOR, PooledByteBufAllocator.DEFAULT)
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(32 * 1024, 64 * 1024))
                .childHandler(new DownstreamInitializer(runtime::get))
                .bind(address(cfg.server().listen())).sync().channel();
        adminChannel = new ServerBootstrap()
                .group(boss, workers)
                .channel(transport.serverChannel())
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(64 * 1024),
                                new AdminHandler(runtime::get, () -> ready, AdminEndpoints.of(runtime::get, env)));
                    }
                })
                .bind(address(cfg.server().admin())).sync().channel();
        ready = true;
        LOG.info("model-egress listening on {} (admin {}), transport {}, {} routes, config: {}", agentAddress(),
                adminAddress(), transport.name(), cfg.routes().size(), cfg.source());
        return this;
    }

    public EgressRuntime runtime() { return runtime.get(); }

    public EgressMetrics metrics() { return metrics; }

    public InetSocketAddress agentAddress() { return (InetSocketAddress) agentChannel.localAddress(); }

    public InetSocketAddress adminAddress() { return (InetSocketAddress) adminChannel.localAddress(); }

    public boolean isReady() { return ready; }

    private static InetSocketAddress address(HostPort hp) {
        return new InetSocketAddress(hp.host(), hp.port());
    }

    /** Stops accepting, lets in-flight exchanges finish until the drain deadline, then closes everything. */
    public void stop() {
        ready = false;
        if (agentChannel != null) agentChannel.close().awaitUninterruptibly();
        if (adminChannel != null) adminChannel.close().awaitUninterruptibly();
        long drain = runtime.get().config().server().drainTimeout().toMillis();
        workers.shutdownGracefully(0, Math.max(100, drain), TimeUnit.MILLISECONDS).awaitUninterruptibly();
        boss.shutdownGracefully(0, 100, TimeUnit.MILLISECONDS).awaitUninterruptibly();
        runtime.get().close();
    }

    @Override
    public void close() { stop(); }
}
