package io.modelegress.server.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.modelegress.server.events.RequestOutcome;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * Micrometer binding of request lifecycle events, exported in Prometheus form. Meter names are the ones docs/operations.md ("Read the metrics") lists;
 * label values are route/upstream names and codes only, never anything from a request.
 */
public final class EgressMetrics {
    /** The {@code # HELP} text of every meter, by Micrometer name (docs/operations.md has the same table). */
    private static final Map<String, String> HELP = Map.ofEntries(
            Map.entry("egress.requests", "Finished agent requests, by the status class the agent saw and the outcome"),
            Map.entry("egress.errors", "Answers the sidecar made itself (x-egress-error), by error code"),
            Map.entry("egress.request.duration", "Agent request arrival to last byte sent, streams included"),
            Map.entry("egress.time.to.first.byte", "Agent request arrival to the first response byte sent to the agent (queueing and retries included)"),
            Map.entry("egress.upstream.attempts", "Tries against an upstream, by result: ok or the error code the try ended with"),
            Map.entry("egress.retries", "Attempts after the first, by trigger (fallback: the next upstream of the route)"),
            Map.entry("egress.breaker.transitions", "Circuit breaker state changes of an upstream, by the state entered"),
            Map.entry("egress.breaker.open", "1 while the upstream (model=\"\") or the (upstream, model) pair is ejected by its circuit breaker, else 0"),
            Map.entry("egress.retry.stopped", "Retries not made though the failure was retryable, by reason"),
            Map.entry("egress.downstream.cancelled", "Requests the agent abandoned (closed its connection) before the answer ended"),
            Map.entry("egress.queue.wait", "Time a request waited for the upstream's own limits before it started"),
            Map.entry("egress.queue.depth", "Requests waiting now for the upstream's own limits"),
            Map.entry("egress.upstream.in.flight", "Requests in flight to the upstream now (permits held)"),
            Map.entry("egress.config.reload", "Config reloads (file change or SIGHUP), by result: ok, rejected (invalid; the old config stays) or failed"),
            Map.entry("egress.body.bytes", "Body bytes per request, by direction"),
            Map.entry("egress.upstream.connections", "Pooled upstream connections now, by state: active or idle"),
            Map.entry("egress.upstream.connections.opened", "Upstream connections opened since start"),
            Map.entry("egress.upstream.streams", "HTTP/2 streams in flight to the upstream now (docs/http2.md)"),
            Map.entry("egress.buffered.request.bytes", "Request body bytes held now, against server.max_buffered_bytes"),
            Map.entry("egress.connections.open", "Open connections now, by listener: agent or admin"),
            Map.entry("egress.connections.rejected", "Connections closed at accept because the listener was at its cap (server.max_connections, server.admin_max_connections)"),
            Map.entry("egress.doctor.calls", "/debug/doctor calls, by run: started a run, or shared one under way"),
            Map.entry("egress.cluster.redis.up", "1 while the fleet's Redis (cluster.redis.url) answers, else 0: shared limits then pace locally"),
            Map.entry("egress.cluster.fallback", "Requests paced on local limits because the fleet's Redis did not answer, by upstream"),
            Map.entry("egress.hedges", "Hedged requests, by outcome: hedge_won, primary_won (the loser cancelled at once), failed or skipped"),
            Map.entry("egress.health.probes", "Active health check probes of ejected upstreams, by result: pass, fail (an unexpected status) or no_answer"),
            Map.entry("egress.proxy.attempts", "Connection attempts through a proxy (or DIRECT as a failover entry), by proxy (scheme://host:port) and outcome: ok or the error code"),
            Map.entry("egress.pac.fetches", "PAC file fetches (proxy.pac), by result: ok, unchanged or failed"),
            Map.entry("egress.websocket.open", "WebSockets passed through now (routes with websocket: true)"),
            Map.entry("egress.websocket.frames", "WebSocket frames relayed, by route and direction: to_upstream or to_agent (pings, pongs and closes included)"),
            Map.entry("egress.websocket.closes", "Passed-through WebSockets that ended, by route and reason: agent or upstream (its close frame came first), idle, message_too_big, shutdown, agent_gone or upstream_gone (closed without a close frame), error"),
            Map.entry("egress.resumes", "Committed streams that broke on a route with resume on, by strategy and outcome: ok, rejected, diverged, failed, budget_exhausted, not_resumable"),
            Map.entry("egress.responses.remembered", "Stateful Responses API ids remembered now with the upstream that made them (server.responses_affinity)"),
            Map.entry("egress.upload.bytes", "Body bytes received from agents in streamed uploads (bodies over server.buffer_request_body_up_to), by route, counted when the request ends"));

    /** A meter nobody described yet still gets a text that says so (EgressMetricsHelpTest fails on it). */
    static String help(String name) {
        return HELP.getOrDefault(name, "undocumented model-egress metric " + name);
    }

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final Map<String, Counter> counters = new ConcurrentHashMap<>();
    private final Map<String, Timer> timers = new ConcurrentHashMap<>();
    private final java.util.concurrent.atomic.AtomicInteger websockets = new java.util.concurrent.atomic.AtomicInteger();

    {
        Gauge.builder("egress.websocket.open", websockets, java.util.concurrent.atomic.AtomicInteger::get)
                .description(help("egress.websocket.open")).register(registry);
    }

    public MeterRegistry registry() { return registry; }

    public String scrape() { return registry.scrape(); }

    public void request(String route, String upstream, int status, RequestOutcome outcome, long durationNanos) {
        RouteMeters m = route(route, upstream);
        m.requests(status, outcome).increment();
        m.duration.record(durationNanos, java.util.concurrent.TimeUnit.NANOSECONDS);
    }

    public void timeToFirstByte(String route, String upstream, long nanos) {
        route(route, upstream).ttfb.record(nanos, java.util.concurrent.TimeUnit.NANOSECONDS);
    }

    /** Meters of one (route, upstream), found with two map lookups and no key building: this runs per request. */
    private RouteMeters route(String route, String upstream) {
        Map<String, RouteMeters> ofRoute = byRoute.get(route); // get first: computeIfAbsent may lock the bin
        if (ofRoute == null) ofRoute = byRoute.computeIfAbsent(route, r -> new ConcurrentHashMap<>());
        RouteMeters m = ofRoute.get(upstream);
        return m != null ? m : ofRoute.computeIfAbsent(upstream, u -> new RouteMeters(route, u));
    }

    private final Map<String, Map<String, RouteMeters>> byRoute = new ConcurrentHashMap<>();

    private static final RequestOutcome[] OUTCOMES = RequestOutcome.values();

    private final class RouteMeters {
        final String route;
        final String upstream;
        final Timer duration;
        final Timer ttfb;
        final Counter[][] requests = new Counter[6][OUTCOMES.length];

        RouteMeters(String route, String upstream) {
            this.route = route;
            this.upstream = upstream;
            this.duration = timer("egress.request.duration", "route", route, "upstream", upstream);
            this.ttfb = timer("egress.time.to.first.byte", "route", route, "upstream", upstream);
        }

        Counter requests(int status, RequestOutcome outcome) {
            int cls = Math.max(0, Math.min(5, status / 100));
            int o = outcome.ordinal();
            Counter c = requests[cls][o];
            if (c == null) {
                c = counter("egress.requests", "route", route, "upstream", upstream, "status_class", cls + "xx",
                        "outcome", OUTCOMES[o].tag());
                requests[cls][o] = c; // benign race: registration is idempotent
            }
            return c;
        }
    }

    public void error(String code, String route) {
        counter("egress.errors", "code", code, "route", route).increment();
    }

    private final Map<String, Counter> okAttempts = new ConcurrentHashMap<>();

    public void attempt(String upstream, String result) {
        if ("ok".equals(result)) {
            // The per-request case: one lookup, no key building.
            Counter c = okAttempts.get(upstream);
            if (c == null) c = okAttempts.computeIfAbsent(upstream, u -> counter("egress.upstream.attempts", "upstream", u, "result", "ok"));
            c.increment();
            return;
        }
        counter("egress.upstream.attempts", "upstream", upstream, "result", result).increment();
    }

    /** A hedge ended with {@code outcome}. */
    public void hedge(String outcome) {
        counter("egress.hedges", "outcome", outcome).increment();
    }

    public void retry(String reason) {
        counter("egress.retries", "reason", reason).increment();
    }

    public void breakerTransition(String upstream, String to) {
        counter("egress.breaker.transitions", "upstream", upstream, "to", to).increment();
    }

    public void healthProbe(String upstream, String result) {
        counter("egress.health.probes", "upstream", upstream, "result", result).increment();
    }

    public void retryStopped(String upstream, String reason) {
        counter("egress.retry.stopped", "upstream", upstream, "reason", reason).increment();
    }

    public void resume(String route, String strategy, String outcome) {
        counter("egress.resumes", "route", route, "strategy", strategy, "outcome", outcome).increment();
    }

    public void websocketOpened() { websockets.incrementAndGet(); }

    /** A passed-through WebSocket ended with {@code reason}. */
    public void websocketClosed(String route, String reason) {
        websockets.decrementAndGet();
        counter("egress.websocket.closes", "route", route, "reason", reason).increment();
    }

    /** The counter of one socket's frames in one direction, looked up once per socket, not per frame. */
    public Counter websocketFrames(String route, String direction) {
        return counter("egress.websocket.frames", "route", route, "direction", direction);
    }

    public void cancelled(String route) {
        counter("egress.downstream.cancelled", "route", route).increment();
    }

    public void queueWait(String upstream, long nanos) {
        timer("egress.queue.wait", "upstream", upstream).record(Duration.ofNanos(nanos));
    }

    /** Registers a gauge, replacing one of the same name and tags (a reloaded config brings new state objects). */
    public void gauge(String name, Supplier<Number> value, String... tags) {
        Gauge old = registry.find(name).tags(tags).gauge();
        if (old != null) registry.remove(old);
        Gauge.builder(name, value).description(help(name)).tags(tags).register(registry);
    }

    /** A connection closed at accept because {@code listener} ("agent" or "admin") was at its connection cap. */
    public void connectionRejected(String listener) {
        counter("egress.connections.rejected", "listener", listener).increment();
    }

    /** A /debug/doctor call that started a run ({@code "started"}) or joined one under way ({@code "shared"}). */
    public void doctorCall(String run) {
        counter("egress.doctor.calls", "run", run).increment();
    }

    /** A request of a shared-scope upstream paced locally: the fleet's Redis was down or slow. */
    public void clusterFallback(String upstream) {
        counter("egress.cluster.fallback", "upstream", upstream).increment();
    }

    /** One connect through {@code proxy} (scheme://host:port, never credentials, or DIRECT) ended with {@code outcome}. */
    public void proxyAttempt(String proxy, String outcome) {
        counter("egress.proxy.attempts", "proxy", proxy, "outcome", outcome).increment();
    }

    public void pacFetch(String result) {
        counter("egress.pac.fetches", "result", result).increment();
    }

    public void configReload(String result) {
        counter("egress.config.reload", "result", result).increment();
    }

    /** A streamed upload on {@code route} ended having received {@code n} body bytes from the agent. */
    public void uploadBytes(String route, long n) {
        counter("egress.upload.bytes", "route", route).increment(n);
    }

    public void bytes(String direction, long n) {
        DistributionSummary.builder("egress.body.bytes").description(help("egress.body.bytes")).tag("direction", direction)
                .register(registry).record(n);
    }

    private Counter counter(String name, String... tags) {
        return counters.computeIfAbsent(key(name, tags), k -> Counter.builder(name).description(help(name)).tags(tags).register(registry));
    }

    private Timer timer(String name, String... tags) {
        return timers.computeIfAbsent(key(name, tags), k -> Timer.builder(name).description(help(name)).tags(tags)
                .publishPercentileHistogram(false)
                .serviceLevelObjectives(Duration.ofMillis(10), Duration.ofMillis(100), Duration.ofMillis(500),
                        Duration.ofSeconds(1), Duration.ofSeconds(5), Duration.ofSeconds(30), Duration.ofSeconds(120))
                .register(registry));
    }

    private static String key(String name, String... tags) {
        return name + '\u0000' + String.join("\u0000", tags);
    }
}
