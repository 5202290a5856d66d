package io.modelegress.server.server;

import io.modelegress.server.runtime.Transport;
import io.modelegress.server.runtime.EgressRuntime;
import io.modelegress.server.ops.Drain;
import io.modelegress.server.ops.ConfigReloader;
import io.modelegress.server.admin.AdminEndpoints;
import io.modelegress.core.config.EgressConfig;
import io.modelegress.core.config.HostPort;
import io.modelegress.core.config.ServerSettings;
import io.modelegress.core.time.Ticker;
import io.modelegress.server.admin.AdminHandler;
import io.modelegress.server.http.BodyBudget;
import io.modelegress.server.doctor.DoctorRuns;
import io.modelegress.server.metrics.EgressMetrics;
import io.modelegress.server.pipeline.DownstreamInitializer;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Binds the agent port and the admin port and owns the event loops. Swaps in reloaded configs atomically
 * (in-flight exchanges keep the runtime they started with) and stops gracefully: not ready at once, the agent port
 * closed after {@code server.shutdown_delay}, in-flight work drained until {@code server.drain_timeout}.
 */
public final class EgressServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(EgressServer.class);

    private final Transport transport = Transport.best();
    private final EgressMetrics metrics = new EgressMetrics();
    private final AtomicReference<EgressRuntime> runtime = new AtomicReference<>();
    private final Drain drain = new Drain();
    private final BodyBudget bodies = new BodyBudget(BodyBudget.resolve(0));
    private final DoctorRuns doctor = new DoctorRuns(metrics::doctorCall);
    private final io.netty.channel.group.ChannelGroup upstreamChannels =
            new io.netty.channel.group.DefaultChannelGroup("upstreams", io.netty.util.concurrent.GlobalEventExecutor.INSTANCE);
    private final Map<String, String> env;
    private final Path configFile;
    private final EventLoopGroup boss;
    private final EventLoopGroup workers;
    private Channel agentChannel;
    private Channel adminChannel;
    private ConfigReloader reloader;
    /** The link to the fleet's Redis, for the process's life: a reload keeps it (changing it needs a restart). */
    private final io.modelegress.server.cluster.RedisFleet fleet;
    private volatile boolean ready;
    private boolean stopped;

    public EgressServer(EgressConfig config, Map<String, String> env) throws Exception {
        this(config, env, null);
    }

    /** {@code configFile}: where the config came from, watched for changes (null: the embedded default). */
    public EgressServer(EgressConfig config, Map<String, String> env, Path configFile) throws Exception {
        this.env = env;
        this.configFile = configFile;
        this.boss = transport.newGroup(1, "egress-accept");
        this.workers = transport.newGroup(Integer.getInteger("modelegress.threads", Runtime.getRuntime().availableProcessors()), "egress-io");
        metrics.gauge("egress.buffered.request.bytes", bodies::used);
        // On the server's own loops (one script connection each) unless -Dmodelegress.fleetOnServerLoops=false asks
        // for Lettuce's own thread, the way it ran before (docs/rate-shaping.md, "The check's cost").
        this.fleet = !config.cluster().enabled() ? null : Boolean.parseBoolean(System.getProperty("modelegress.fleetOnServerLoops", "true"))
                ? new io.modelegress.server.cluster.RedisFleet(config.cluster(), metrics, workers, transport.socketChannel())
                : new io.modelegress.server.cluster.RedisFleet(config.cluster(), metrics, workers.next());
        try {
            this.runtime.set(newRuntime(config));
        } catch (Exception e) {
            if (fleet != null) fleet.close();
            workers.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
            boss.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
            throw e;
        }
    }

    private EgressRuntime newRuntime(EgressConfig config) throws Exception {
        if (fleet != null && !config.cluster().equals(fleet.settings())) {
            LOG.warn("cluster settings changed in the new config: they apply after a restart (the running link stays)");
        } else if (fleet == null && config.cluster().enabled()) {
            LOG.warn("cluster.redis.url was set by a reload: shared limits apply after a restart; until then they are local");
        }
        EgressRuntime rt = new EgressRuntime(config, env, transport, metrics, Ticker.SYSTEM, workers, upstreamChannels, bodies, fleet);
        rt.keepResponsesOf(runtime.get());
        return rt;
    }

    /** Binds both ports; a port that cannot be bound is a {@link ListenFailedException} and nothing is left running. */
    public EgressServer start() throws Exception {
        EgressConfig cfg = runtime.get().config();
        ConnectionLimit agentLimit = new ConnectionLimit(() -> runtime.get().config().server().maxConnections(),
                () -> metrics.connectionRejected("agent"));
        ConnectionLimit adminLimit = new ConnectionLimit(() -> runtime.get().config().server().adminMaxConnections(),
                () -> metrics.connectionRejected("admin"));
        metrics.gauge("egress.connections.open", agentLimit::open, "listener", "agent");
        metrics.gauge("egress.connections.open", adminLimit::open, "listener", "admin");
        try {
            agentChannel = bind(new ServerBootstrap()
                    .group(boss, workers)
                    .channel(transport.serverChannel())
                    .option(ChannelOption.SO_BACKLOG, 1024)
                    .handler(agentLimit)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childOption(ChannelOption.ALLOCATOR, ByteBufAllocator.DEFAULT)
                    .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(32 * 1024, 64 * 1024))
                    .childHandler(new DownstreamInitializer(runtime::get, drain)), cfg.server().listen(), "server.listen");
            adminChannel = bind(new ServerBootstrap()
                    .group(boss, workers)
                    .channel(transport.serverChannel())
                    .handler(adminLimit)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(64 * 1024),
                                    new AdminHandler(runtime::get, () -> ready, AdminEndpoints.of(runtime::get, env, doctor)));
                        }
                    }), cfg.server().admin(), "server.admin");
        } catch (ListenFailedException e) {
            abandon();
            throw e;
        }
        reloader = new ConfigReloader(configFile, env, () -> runtime.get().config(), this::swap, metrics::configReload,
                Long.getLong("modelegress.reloadPollMillis", 1000));
        ready = true;
        LOG.info("model-egress listening on {} (admin {}), transport {}, {} routes, config: {}", agentAddress(),
                adminAddress(), transport.name(), cfg.routes().size(), cfg.source());
        return this;
    }

    /** Called from the starting thread, never an event loop: waiting for the bind is fine here. */
    private static Channel bind(ServerBootstrap bootstrap, HostPort hp, String key) throws ListenFailedException {
        io.netty.channel.ChannelFuture f = bootstrap.bind(address(hp)).awaitUninterruptibly();
        if (!f.isSuccess()) throw new ListenFailedException(key, hp, f.cause());
        return f.channel();
    }

    /** A start that failed half-way: whatever was bound is closed and the event loops stop. */
    private void abandon() {
        if (agentChannel != null) agentChannel.close().awaitUninterruptibly();
        agentChannel = null;
        workers.shutdownGracefully(0, 100, TimeUnit.MILLISECONDS).awaitUninterruptibly();
        boss.shutdownGracefully(0, 100, TimeUnit.MILLISECONDS).awaitUninterruptibly();
        runtime.get().close();
        doctor.close();
        stopped = true;
    }

    /** Makes {@code next} the config new requests use; requests in flight finish under the old one. */
    private void swap(EgressConfig next) {
        EgressRuntime fresh;
        try {
            fresh = newRuntime(next);
        } catch (Exception e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
        EgressRuntime old = runtime.getAndSet(fresh);
        old.stopHealthChecks(); // its breakers no longer admit anything: probing them would only load the upstream
        long grace = old.config().server().drainTimeout().toMillis() + old.config().timeouts().request().toMillis();
        workers.next().schedule(old::close, grace, TimeUnit.MILLISECONDS);
    }

    /** SIGHUP reloads the config now (installed by the CLI, not by tests). */
    public void reloadNow() {
        if (reloader != null) reloader.reloadNow();
    }

    public EgressRuntime runtime() { return runtime.get(); }

    public EgressMetrics metrics() { return metrics; }

    /** The link to the fleet's Redis, or null without {@code cluster.redis.url}. */
    public io.modelegress.server.cluster.RedisFleet fleet() { return fleet; }

    public InetSocketAddress agentAddress() { return (InetSocketAddress) agentChannel.localAddress(); }

    public InetSocketAddress adminAddress() { return (InetSocketAddress) adminChannel.localAddress(); }

    public boolean isReady() { return ready; }

    private static InetSocketAddress address(HostPort hp) {
        return new InetSocketAddress(hp.host(), hp.port());
    }

    /**
     * Graceful stop: /readyz fails at once; after {@code shutdown_delay} the agent port closes; in-flight requests
     * and streams finish until {@code drain_timeout}; the rest end with {@code shutting_down}. Blocks the caller
     * (the shutdown hook), never an event loop.
     */
    public synchronized void stop() {
        if (stopped) return;
        stopped = true;
        ready = false;
        drain.begin();
        runtime.get().stopHealthChecks();
        ServerSettings s = runtime.get().config().server();
        try {
            if (!s.shutdownDelay().isZero()) {
                LOG.info("shutting down: not ready; closing the agent port in {}", io.modelegress.core.time.Durations.format(s.shutdownDelay()));
                Thread.sleep(s.shutdownDelay().toMillis()); // deliberate: let probes and load balancers see not-ready
            }
            if (agentChannel != null) agentChannel.close().awaitUninterruptibly();
            if (!drain.awaitIdle(s.drainTimeout().toNanos())) {
                LOG.warn("drain time over with {} requests and {} WebSockets in flight: ending them with shutting_down (WebSockets: 1001)", drain.inFlight(), drain.openSockets());
                drain.abortRemaining();
                drain.awaitIdle(TimeUnit.SECONDS.toNanos(2));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        drain.closeAgentConnections();
        upstreamChannels.close().awaitUninterruptibly();
        if (reloader != null) reloader.close();
        if (adminChannel != null) adminChannel.close().awaitUninterruptibly();
        doctor.close();
        if (fleet != null) fleet.close(); // before the workers: its connections live on their loops
        workers.shutdownGracefully(0, 500, TimeUnit.MILLISECONDS).awaitUninterruptibly();
        boss.shutdownGracefully(0, 100, TimeUnit.MILLISECONDS).awaitUninterruptibly();
        runtime.get().close();
        io.modelegress.server.events.AccessLog.flush(1000); // the last requests' lines, before the JVM exits
        LOG.info("stopped");
    }

    @Override
    public void close() { stop(); }
}
