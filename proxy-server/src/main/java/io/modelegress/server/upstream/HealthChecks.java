package io.modelegress.server.upstream;

import io.modelegress.core.breaker.CircuitBreaker;
import io.modelegress.core.breaker.HealthCheck;
import io.modelegress.core.config.EgressConfig;
import io.modelegress.core.config.HealthSettings;
import io.modelegress.core.config.Timeouts;
import io.modelegress.core.config.UpstreamSettings;
import io.modelegress.core.time.Ticker;
import io.modelegress.core.timeout.Deadline;
import io.modelegress.server.metrics.EgressMetrics;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * The active health checks of one config generation: while an upstream is ejected, a probe ({@code health.method}
 * {@code health.path}, its credential injected) goes to it every {@code health.interval} through the same proxy,
 * connector and pool as requests, on a fresh connection closed after the answer; {@code healthy_after} passes in a
 * row close its breaker at once. Each upstream's prober lives on one event loop and never blocks it. Stopped by
 * {@link #close()} (config reload for the old generation, shutdown). (upstream, model) pairs are not probed here: a
 * probe of a path cannot tell whether one model recovered, so a pair comes back by a request after its cooldown.
 */
public final class HealthChecks implements AutoCloseable {
    /** At most this long for a probe's answer (or the upstream's response_headers, if shorter). */
    static final Duration MAX_PROBE_WAIT = Duration.ofSeconds(10);

    private final EgressConfig config;
    private final ConnectionPool pool;
    private final Function<UpstreamSettings, ProxyHop> proxies;
    private final Ticker ticker;
    private final EgressMetrics metrics;
    private final Map<String, Prober> probers = new ConcurrentHashMap<>();
    private volatile boolean closed;

    public HealthChecks(EgressConfig config, ConnectionPool pool, Function<UpstreamSettings, ProxyHop> proxies,
                        Ticker ticker, EgressMetrics metrics) {
        this.config = config;
        this.pool = pool;
        this.proxies = proxies;
        this.ticker = ticker;
        this.metrics = metrics;
    }

    /** The listener to give the upstream's breaker: an ejection starts its prober (none when health is off). */
    public CircuitBreaker.Listener listenerFor(UpstreamSettings u) {
        if (!u.health().enabled()) return CircuitBreaker.Listener.NONE;
        return (from, to) -> {
            if (to != CircuitBreaker.State.OPEN) return;
            Prober p = probers.get(u.name());
            if (p != null) p.loop.execute(p::arm);
        };
    }

    /** Starts watching {@code state} (after it was built with {@link #listenerFor}); its probes run on {@code loop}. */
    public void watch(UpstreamState state, EventLoop loop) {
        if (state.settings.health().enabled()) probers.put(state.settings.name(), new Prober(state, loop));
    }

    /** Ticker time of the upstream's next probe, or -1 when none is scheduled (health off, or not ejected). */
    public long nextProbeNanos(String upstream) {
        Prober p = probers.get(upstream);
        return p == null ? -1 : p.nextProbeNanos;
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        for (Prober p : probers.values()) {
            if (p.loop.isShuttingDown()) continue; // its timers and connections end with the loop
            try {
                p.loop.execute(p::stop);
            } catch (java.util.concurrent.RejectedExecutionException e) {
                // the loop stopped between the check and the call: nothing of ours outlives it
            }
        }
    }

    /** One upstream's probes; every field but {@code nextProbeNanos} is touched only on {@code loop}. */
    private final class Prober {
        final UpstreamState state;
        final EventLoop loop;
        final HealthSettings settings;
        final HealthCheck check;
        volatile long nextProbeNanos = -1;
        ScheduledFuture<?> next;
        Channel inFlight;
        boolean running;

        Prober(UpstreamState state, EventLoop loop) {
            this.state = state;
            this.loop = loop;
            this.settings = state.settings.health();
            this.check = new HealthCheck(settings);
        }

        void arm() {
            if (closed || running) return;
            running = true;
            check.reset();
            schedule();
        }

        void stop() {
            running = false;
            nextProbeNanos = -1;
            if (next != null) next.cancel(false);
            if (inFlight != null) inFlight.close();
        }

        private void schedule() {
            long interval = settings.interval().toNanos();
            nextProbeNanos = ticker.nanos() + interval;
            next = loop.schedule(this::probe, interval, TimeUnit.NANOSECONDS);
        }

        private void probe() {
            if (closed || !running) return;
            if (!state.breaker.isEjected()) { // back by a request's probe meanwhile
                running = false;
                nextProbeNanos = -1;
                return;
            }
            UpstreamSettings u = state.settings;
            Timeouts timeouts = config.timeouts().with(u.timeouts());
            Duration wait = timeouts.responseHeaders().compareTo(MAX_PROBE_WAIT) < 0 ? timeouts.responseHeaders() : MAX_PROBE_WAIT;
            ProxyHop proxy;
            try {
                proxy = proxies.apply(u);
            } catch (RuntimeException e) {
                done(0);
                return;
            }
            Deadline deadline = new Deadline(ticker, timeouts.request(), "health check of upstream \"" + u.name() + "\"");
            UpstreamConnector.Target t = new UpstreamConnector.Target(u, proxy, timeouts, deadline);
            pool.acquire(loop, t, true).addListener(f -> {
                if (!f.isSuccess()) {
                    done(0);
                    return;
                }
                ConnectionPool.Lease lease = (ConnectionPool.Lease) f.getNow();
                if (closed || !running) {
                    pool.discard(lease);
                    return;
                }
                send(lease, t, wait);
            });
        }

        private void send(ConnectionPool.Lease lease, UpstreamConnector.Target t, Duration wait) {
            Channel ch = lease.channel();
            inFlight = ch;
            UpstreamSettings u = t.upstream();
            // The pool's watch passes what it reads on while no request reader is attached: to us, last in line.
            Answer answer = new Answer(lease);
            ch.pipeline().addLast(answer);
            answer.timer = loop.schedule(() -> answer.finish(0), wait.toNanos(), TimeUnit.NANOSECONDS);
            ch.writeAndFlush(request(u, t)).addListener(w -> {
                if (!w.isSuccess()) answer.finish(0);
            });
        }

        private FullHttpRequest request(UpstreamSettings u, UpstreamConnector.Target t) {
            String path = u.basePath() + settings.path();
            FullHttpRequest req = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.valueOf(settings.method()),
                    t.absoluteForm() ? u.url().getScheme() + "://" + u.authority() + path : path);
            req.headers().set(HttpHeaderNames.HOST, u.authority()).set(HttpHeaderNames.USER_AGENT, "model-egress-health")
                    .set(HttpHeaderNames.ACCEPT, "application/json").set(HttpHeaderNames.CONNECTION, "close")
                    .setInt(HttpHeaderNames.CONTENT_LENGTH, 0);
            if (u.auth() != null && UpstreamFailures.credential(u) == null) {
                req.headers().set(u.auth().header(), u.auth().value().current().value());
            }
            if (t.absoluteForm() && t.proxy().username() != null) {
                req.headers().set(HttpHeaderNames.PROXY_AUTHORIZATION, t.proxy().basicAuth());
            }
            return req;
        }

        /** A probe ended with {@code status} (0: no answer): the breaker closes, or the next probe is scheduled. */
        private void done(int status) {
            inFlight = null;
            metrics.healthProbe(state.settings.name(), status == 0 ? "no_answer" : settings.accepts(status) ? "pass" : "fail");
            if (closed || !running) return;
            if (check.onProbe(status)) {
                running = false;
                nextProbeNanos = -1;
                state.breaker.onHealthy();
                return;
            }
            if (!state.breaker.isEjected()) {
                running = false;
                nextProbeNanos = -1;
                return;
            }
            schedule();
        }

        /** Reads the probe's answer: its status, then the rest released; the connection is never pooled. */
        private final class Answer extends ChannelInboundHandlerAdapter {
            final ConnectionPool.Lease lease;
            ScheduledFuture<?> timer;
            int status;
            boolean finished;

            Answer(ConnectionPool.Lease lease) { this.lease = lease; }

            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                try {
                    if (msg instanceof HttpResponse) {
                        int code = ((HttpResponse) msg).status().code();
                        if (code >= 200) status = code; // interim 1xx answers are not the answer
                    }
                    if (msg instanceof LastHttpContent && status >= 200) finish(status);
                } finally {
                    ReferenceCountUtil.release(msg);
                }
            }

            @Override
            public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) { finish(0); }

            @Override
            public void channelInactive(ChannelHandlerContext ctx) {
                finish(0);
                ctx.fireChannelInactive();
            }

            void finish(int result) {
                if (finished) return;
                finished = true;
                if (timer != null) timer.cancel(false);
                pool.discard(lease);
                done(result);
            }
        }
    }
}
