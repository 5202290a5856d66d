package io.modelegress.server.server;

import io.modelegress.core.config.EgressConfig;
import io.modelegress.core.config.RouteSettings;
import io.modelegress.core.config.UpstreamSettings;
import io.modelegress.core.retry.RetryPolicy;
import io.modelegress.server.upstream.UpstreamState;
import io.modelegress.core.route.Router;
import io.modelegress.core.time.Ticker;
import io.modelegress.server.downstream.BodyBudget;
import io.modelegress.server.metrics.EgressMetrics;
import io.modelegress.server.upstream.ConnectionPool;
import io.modelegress.server.upstream.Dns;
import io.modelegress.server.upstream.ProxyHop;
import io.modelegress.server.upstream.ProxyPlanner;
import io.modelegress.server.upstream.TlsContexts;
import io.modelegress.server.upstream.UpstreamConnector;
import io.netty.handler.ssl.SslContext;
import java.util.Map;

/**
 * Everything a request needs that outlives it, for one config generation: the config, the router, proxy planning,
 * the connection pool and the metrics. Immutable apart from the pool's and meters' own thread-safe state.
 */
public final class EgressRuntime {
    private final EgressConfig config;
    private final Router router;
    private final ProxyPlanner proxies;
    private final ConnectionPool pool;
    private final Dns dns;
    private final EgressMetrics metrics;
    private final BodyBudget bodies;
    private final Ticker ticker;
    private final Transport transport;
    private final io.netty.channel.EventLoopGroup timers;
    private final Map<String, UpstreamState> upstreams = new java.util.HashMap<>();
    private final Map<String, RetryPolicy> policies = new java.util.HashMap<>();

    public EgressRuntime(EgressConfig config, Map<String, String> env, Transport transport, EgressMetrics metrics,
                         Ticker ticker, io.netty.channel.EventLoopGroup timers,
                         io.netty.channel.group.ChannelGroup upstreamChannels, BodyBudget bodies) throws Exception {
        this.bodies = bodies;
        bodies.limit(BodyBudget.resolve(config.server().maxBufferedBytes()));
        this.transport = transport;
        this.timers = timers;
        this.config = config;
        this.router = new Router(config.routes());
        this.proxies = new ProxyPlanner(config, env, metrics, io.modelegress.core.proxy.pac.PacHost.SYSTEM, ticker);
        this.dns = new Dns(config.dns(), transport.datagramChannel(), config.timeouts().dns());
        SslContext ssl = TlsContexts.client(config.tls().caBundle());
        this.pool = new ConnectionPool(new UpstreamConnector(transport.socketChannel(), dns, ssl, proxies, metrics), upstreamChannels);
        this.metrics = metrics;
        this.ticker = ticker;
        metrics.bindPool(pool, config.upstreams().keySet());
        for (UpstreamSettings u : config.upstreams().values()) {
            var loop = timers.next();
            upstreams.put(u.name(), new UpstreamState(u, config.retry(), ticker, metrics,
                    (task, delay) -> loop.schedule(task, delay, java.util.concurrent.TimeUnit.NANOSECONDS)));
        }
        for (RouteSettings r : config.routes()) policies.put(r.name(), RetryPolicy.from(r.retry(), r.fallbackOn()));
    }

    public UpstreamState upstream(String name) { return upstreams.get(name); }

    public RetryPolicy policy(RouteSettings route) { return policies.get(route.name()); }

    public EgressConfig config() { return config; }

    public Router router() { return router; }

    public ConnectionPool pool() { return pool; }

    public EgressMetrics metrics() { return metrics; }

    /** The process-wide budget for buffered request bodies (shared by every config generation). */
    public BodyBudget bodies() { return bodies; }

    public Ticker ticker() { return ticker; }

    public Transport transport() { return transport; }

    /** The worker event loops (for timers and for doctor's connections). */
    public io.netty.channel.EventLoopGroup timers() { return timers; }

    public ProxyPlanner proxies() { return proxies; }

    public ProxyHop proxyFor(UpstreamSettings u) { return proxies.hopFor(u); }

    public void close() {
        dns.close();
        proxies.close();
    }
}
