package io.modelegress.server.runtime;

import io.modelegress.core.config.EgressConfig;
import io.modelegress.core.config.RouteSettings;
import io.modelegress.core.config.UpstreamSettings;
import io.modelegress.core.ratelimit.FleetBudget;
import io.modelegress.core.ratelimit.RateLimits;
import io.modelegress.core.retry.RetryPolicy;
import io.modelegress.server.cluster.RedisFleet;
import io.modelegress.server.upstream.UpstreamState;
import io.modelegress.core.route.Router;
import io.modelegress.core.time.Ticker;
import io.modelegress.server.http.BodyBudget;
import io.modelegress.server.events.AccessLog;
import io.modelegress.server.events.ExchangeEvents;
import io.modelegress.server.metrics.EgressMetrics;
import io.modelegress.server.metrics.MetricsEvents;
import io.modelegress.server.upstream.ConnectionPool;
import io.modelegress.server.upstream.ExchangeContext;
import io.modelegress.server.upstream.Connector;
import io.modelegress.server.upstream.Dns;
import io.modelegress.server.upstream.HealthChecks;
import io.modelegress.server.upstream.ProxyHop;
import io.modelegress.server.upstream.ProxyPlanner;
import io.modelegress.server.upstream.TlsContexts;
import io.modelegress.server.upstream.UpstreamConnector;
import java.util.Map;

/**
 * Everything a request needs that outlives it, for one config generation: the config, the router, proxy planning,
 * the connection pool and the metrics. Immutable apart from the pool's and meters' own thread-safe state.
 */
public final class EgressRuntime implements ExchangeContext {
    private final EgressConfig config;
    private final Router router;
    private final ProxyPlanner proxies;
    private final ConnectionPool pool;
    private final Dns dns;
    private final EgressMetrics metrics;
    private final BodyBudget bodies;
    private final ExchangeEvents events;
    private final Ticker ticker;
    private final Transport transport;
    private final io.netty.channel.EventLoopGroup timers;
    private final Map<String, UpstreamState> upstreams = new java.util.HashMap<>();
    private final Map<String, RetryPolicy> policies = new java.util.HashMap<>();
    private final HealthChecks health;
    /** Where each stateful response was made; a reload keeps the previous generation's ({@link #keepResponsesOf}). */
    private io.modelegress.core.route.ResponseAffinity responses;

    public EgressRuntime(EgressConfig config, Map<String, String> env, Transport transport, EgressMetrics metrics,
                         Ticker ticker, io.netty.channel.EventLoopGroup timers,
                         io.netty.channel.group.ChannelGroup upstreamChannels, BodyBudget bodies) throws Exception {
        this(config, env, transport, metrics, ticker, timers, upstreamChannels, bodies, null, null, null);
    }

    /** {@code fleet}: the process's link to the fleet's Redis (null without {@code cluster.redis.url}). */
    public EgressRuntime(EgressConfig config, Map<String, String> env, Transport transport, EgressMetrics metrics,
                         Ticker ticker, io.netty.channel.EventLoopGroup timers,
                         io.netty.channel.group.ChannelGroup upstreamChannels, BodyBudget bodies,
                         RedisFleet fleet) throws Exception {
        this(config, env, transport, metrics, ticker, timers, upstreamChannels, bodies, fleet, null, null);
    }

    /**
     * {@code connector}: how upstream connections are opened (null: the real dialer); {@code observer}: one more
     * listener of every request's life beside the metrics and the access log (null: none). Both for handler tests.
     */
    public EgressRuntime(EgressConfig config, Map<String, String> env, Transport transport, EgressMetrics metrics,
                         Ticker ticker, io.netty.channel.EventLoopGroup timers,
                         io.netty.channel.group.ChannelGroup upstreamChannels, BodyBudget bodies, RedisFleet fleet,
                         Connector connector, ExchangeEvents observer) throws Exception {
        this.bodies = bodies;
        ExchangeEvents recorded = ExchangeEvents.of(new MetricsEvents(metrics), AccessLog.EVENTS);
        this.events = observer == null ? recorded : ExchangeEvents.of(recorded, observer);
        bodies.limit(BodyBudget.resolve(config.server().maxBufferedBytes()));
        this.transport = transport;
        this.timers = timers;
        this.config = config;
        this.router = new Router(config.routes());
        this.proxies = new ProxyPlanner(config, env, metrics, io.modelegress.core.proxy.pac.PacHost.SYSTEM, ticker);
        this.dns = new Dns(config.dns(), transport.datagramChannel(), config.timeouts().dns());
        this.pool = new ConnectionPool(connector != null ? connector
                : new UpstreamConnector(transport.socketChannel(), dns, TlsContexts.client(config.tls().caBundle()), proxies, metrics),
                upstreamChannels);
        this.metrics = metrics;
        this.ticker = ticker;
        for (String u : config.upstreams().keySet()) {
            ConnectionPool.Counts c = pool.counts(u);
            metrics.gauge("egress.upstream.connections", c.active::intValue, "upstream", u, "state", "active");
            metrics.gauge("egress.upstream.connections", c.idle::intValue, "upstream", u, "state", "idle");
            metrics.gauge("egress.upstream.connections.opened", c.opened::intValue, "upstream", u);
            metrics.gauge("egress.upstream.streams", c.streams::intValue, "upstream", u);
        }
        this.health = new HealthChecks(config, pool, proxies::hopFor, ticker, metrics);
        for (UpstreamSettings u : config.upstreams().values()) {
            var loop = timers.next();
            var l = u.limits();
            FleetBudget shared = fleet == null || !l.shared() ? null : fleet.budget(u.name(), new RateLimits(
                    l.maxConcurrent(), l.requestsPerMinute(), l.tokensPerMinute(), l.maxQueue(), l.maxQueueWait()));
            boolean shareEjections = fleet != null && config.cluster().shareEjections();
            UpstreamState state = new UpstreamState(u, config.retry(), ticker, metrics,
                    (task, delay) -> loop.schedule(task, delay, java.util.concurrent.TimeUnit.NANOSECONDS), shared,
                    shareEjections ? millis -> fleet.publishEjection(u.name(), millis) : null, health.listenerFor(u));
            if (shareEjections) {
                fleet.onEject(u.name(), nanos -> {
                    if (state.breaker.ejectFor(java.time.Duration.ofNanos(nanos))) metrics.breakerTransition(u.name(), "open");
                });
            }
            upstreams.put(u.name(), state);
            health.watch(state, loop);
        }
        for (RouteSettings r : config.routes()) policies.put(r.name(), RetryPolicy.from(r.retry(), r.fallbackOn()));
        var ra = config.server().responsesAffinity();
        this.responses = new io.modelegress.core.route.ResponseAffinity(ra.maxEntries(), ra.ttl(), ticker);
    }

    /**
     * Called before this generation serves: a reload that left {@code server.responses_affinity} as it was keeps the
     * ids the previous one learned (their follow-ups must still find their upstream); a changed one starts empty.
     */
    public void keepResponsesOf(EgressRuntime previous) {
        if (previous != null && previous.config.server().responsesAffinity().equals(config.server().responsesAffinity())) {
            responses = previous.responses;
        }
        var r = responses;
        metrics.gauge("egress.responses.remembered", r::size);
    }

    @Override
    public io.modelegress.core.route.ResponseAffinity responses() { return responses; }

    @Override
    public UpstreamState upstream(String name) { return upstreams.get(name); }

    /** Every upstream's state, by name (for /debug/breakers). */
    public Map<String, UpstreamState> upstreams() { return java.util.Collections.unmodifiableMap(upstreams); }

    /** The active health checks of this generation. */
    public HealthChecks health() { return health; }

    @Override
    public RetryPolicy policy(RouteSettings route) { return policies.get(route.name()); }

    @Override
    public EgressConfig config() { return config; }

    public Router router() { return router; }

    @Override
    public ConnectionPool pool() { return pool; }

    public EgressMetrics metrics() { return metrics; }

    /** Every step of every request, to the metrics and the access log. */
    @Override
    public ExchangeEvents events() { return events; }

    /** The process-wide budget for buffered request bodies (shared by every config generation). */
    @Override
    public BodyBudget bodies() { return bodies; }

    @Override
    public Ticker ticker() { return ticker; }

    public Transport transport() { return transport; }

    /** The worker event loops (for timers and for doctor's connections). */
    public io.netty.channel.EventLoopGroup timers() { return timers; }

    public ProxyPlanner proxies() { return proxies; }

    @Override
    public ProxyHop proxyFor(UpstreamSettings u) { return proxies.hopFor(u); }

    /** Stops this generation's health checks: at once on reload (the new generation has its own), and at shutdown. */
    public void stopHealthChecks() { health.close(); }

    public void close() {
        health.close();
        dns.close();
        proxies.close();
    }
}
