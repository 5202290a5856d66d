package io.modelegress.server.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.modelegress.server.testing.Http;
import io.modelegress.server.testing.RedisServer;
import io.modelegress.server.testing.Sidecar;
import io.modelegress.server.testing.TestUpstream;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Four sidecars, one real Redis, one upstream: the limits hold for the fleet, and Redis down is not an outage. */
class FleetLimitsTest {
    private final RedisServer redis = RedisServer.start();
    private final TestUpstream upstream = new TestUpstream();
    private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private final List<Sidecar> sidecars = new ArrayList<>();
    /** When each request reached the upstream (System.nanoTime). */
    private final ConcurrentLinkedQueue<Long> arrivals = new ConcurrentLinkedQueue<>();

    FleetLimitsTest() throws Exception {
        upstream.script((ctx, req) -> {
            arrivals.add(System.nanoTime());
            ok(ctx);
        });
    }

    @AfterEach
    void tearDown() {
        sidecars.forEach(Sidecar::close);
        upstream.close();
        redis.close();
    }

    private List<Sidecar> fleet(int n, String limits) throws Exception {
        for (int i = 0; i < n; i++) {
            sidecars.add(Sidecar.start("cluster:\n  redis: { url: \"" + redis.url() + "\", timeout: 200ms }\n  lease_ttl: 2s\n"
                    + "upstreams:\n  up:\n    url: " + upstream.url() + "\n    limits: " + limits + "\n"
                    + "routes:\n  - { name: r, prefix: /v1, upstreams: [up] }\n"));
        }
        // Every replica has announced itself (its first heartbeat answered).
        Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> sidecars.stream()
                .allMatch(s -> s.server.fleet().isUp() && s.server.fleet().replicas() == n));
        return sidecars;
    }

    private CompletableFuture<HttpResponse<String>> send(Sidecar s) {
        return client.sendAsync(HttpRequest.newBuilder(URI.create(s.url() + "/v1/chat/completions"))
                .timeout(Duration.ofSeconds(60)).POST(HttpRequest.BodyPublishers.ofString("{}")).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** {@code agents} agents per sidecar, each sending its next request when the last one is answered. */
    private final class Load {
        final Map<Integer, AtomicInteger> statuses = new ConcurrentHashMap<>();
        final AtomicBoolean stop = new AtomicBoolean();
        final AtomicInteger open = new AtomicInteger();
        final CompletableFuture<Void> drained = new CompletableFuture<>();

        Load(List<Sidecar> targets, int agents) {
            for (Sidecar s : targets) for (int i = 0; i < agents; i++) loop(s);
        }

        private void loop(Sidecar s) {
            if (stop.get()) return;
            open.incrementAndGet();
            send(s).whenComplete((r, e) -> {
                statuses.computeIfAbsent(e != null ? -1 : r.statusCode(), k -> new AtomicInteger()).incrementAndGet();
                if (open.decrementAndGet() == 0 && stop.get()) drained.complete(null);
                loop(s);
            });
        }

        Map<Integer, Integer> finish() throws Exception {
            stop.set(true);
            if (open.get() > 0) drained.get(60, java.util.concurrent.TimeUnit.SECONDS);
            Map<Integer, Integer> out = new java.util.TreeMap<>();
            statuses.forEach((k, v) -> out.put(k, v.get()));
            return out;
        }
    }

    private long arrivalsBetween(long from, long to) {
        return arrivals.stream().filter(t -> t >= from && t < to).count();
    }

    /** Waits (bounded) without sleeping on a fixed guess: until the upstream has seen what {@code until} says. */
    private static void during(Duration d) {
        long end = System.nanoTime() + d.toNanos();
        Awaitility.await().atMost(d.plusSeconds(5)).pollInterval(Duration.ofMillis(50)).until(() -> System.nanoTime() >= end);
    }

    @Test
    @Timeout(90)
    void fourSidecarsSharing600RpmSendTenRequestsASecondInAll() throws Exception {
        Load load = new Load(fleet(4, "{ requests_per_minute: 600, max_queue_wait: 30s, scope: shared }"), 3);
        during(Duration.ofSeconds(2));
        long from = System.nanoTime();
        during(Duration.ofSeconds(30));
        long seen = arrivalsBetween(from, System.nanoTime());
        Map<Integer, Integer> statuses = load.finish();
        assertTrue(seen >= 285 && seen <= 315, "the upstream saw " + seen + " requests in 30 s (expected 300 ± 5 %)");
        assertEquals(Map.of(200, statuses.get(200)), statuses, "every agent got its answer: " + statuses);
    }

    @Test
    @Timeout(90)
    void fourSidecarsWithLocalScopeSendFortyRequestsASecond() throws Exception {
        // The contrast that proves sharing: the same fleet, load and 30 s window as the shared case above.
        Load load = new Load(fleet(4, "{ requests_per_minute: 600, max_queue_wait: 30s, scope: local }"), 3);
        during(Duration.ofSeconds(2));
        long from = System.nanoTime();
        during(Duration.ofSeconds(30));
        long seen = arrivalsBetween(from, System.nanoTime());
        Map<Integer, Integer> statuses = load.finish();
        assertTrue(seen >= 1140 && seen <= 1260, "the upstream saw " + seen + " requests in 30 s (expected 1200 ± 5 %: 4 x 10/s)");
        assertEquals(Map.of(200, statuses.get(200)), statuses, "every agent got its answer: " + statuses);
    }

    @Test
    @Timeout(60)
    void a429WithRetryAfterSeenByOneSidecarHoldsAllFour() throws Exception {
        AtomicLong throttledAt = new AtomicLong();
        AtomicBoolean throttle = new AtomicBoolean();
        upstream.script((ctx, req) -> {
            long now = System.nanoTime();
            if (throttle.compareAndSet(true, false)) {
                throttledAt.set(now);
                var r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.TOO_MANY_REQUESTS,
                        Unpooled.copiedBuffer("{\"error\":{\"code\":\"rate_limit_exceeded\"}}".getBytes()));
                r.headers().setInt("content-length", r.content().readableBytes()).set("retry-after", "2");
                ctx.writeAndFlush(r);
                return;
            }
            arrivals.add(now);
            ok(ctx);
        });
        Load load = new Load(fleet(4, "{ requests_per_minute: 1200, max_queue_wait: 30s, scope: shared }"), 2);
        during(Duration.ofSeconds(1));
        throttle.set(true);
        Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> throttledAt.get() != 0);
        during(Duration.ofSeconds(3));
        Map<Integer, Integer> statuses = load.finish();
        long t = throttledAt.get();
        // What other replicas had sent before the news reached them may still land in the first moments.
        long duringPause = arrivalsBetween(t + Duration.ofMillis(150).toNanos(), t + Duration.ofMillis(1950).toNanos());
        assertEquals(0, duringPause, "requests reached the upstream during its 2 s retry-after");
        long after = arrivalsBetween(t + Duration.ofMillis(2000).toNanos(), t + Duration.ofMillis(3000).toNanos());
        assertTrue(after >= 10, "the fleet resumed after the pause: " + after + " requests in the next second");
        assertEquals(Map.of(200, statuses.get(200)), statuses, "the 429 was retried, never shown to an agent: " + statuses);
    }

    @Test
    @Timeout(90)
    void redisStoppedMidLoadFailsNoRequestAndSharedLimitsResumeWhenItReturns() throws Exception {
        List<Sidecar> fleet = fleet(4, "{ requests_per_minute: 600, max_queue_wait: 30s, scope: shared }");
        Load load = new Load(fleet, 3);
        during(Duration.ofSeconds(3));
        redis.stop();
        Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> fleet.stream().noneMatch(s -> s.server.fleet().isUp()));
        assertTrue(Http.get(fleet.get(0).adminUrl() + "/metrics").body().contains("egress_cluster_redis_up 0.0"));
        during(Duration.ofSeconds(1));
        long from = System.nanoTime();
        during(Duration.ofSeconds(5));
        // Each replica paces at its share (600 / 4 replicas last seen): the fleet still sends about 10/s.
        long down = arrivalsBetween(from, System.nanoTime());
        assertTrue(down >= 40 && down <= 60, down + " requests in 5 s with Redis down (expected about 50)");
        String metrics = Http.get(fleet.get(0).adminUrl() + "/metrics").body();
        assertTrue(metrics.contains("egress_cluster_fallback_total{upstream=\"up\"}"), metrics);

        redis.startAgain();
        Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> fleet.stream().allMatch(s -> s.server.fleet().isUp()));
        during(Duration.ofSeconds(1));
        from = System.nanoTime();
        during(Duration.ofSeconds(5));
        long back = arrivalsBetween(from, System.nanoTime());
        Map<Integer, Integer> statuses = load.finish();
        // A 5 s window right after a restart: Redis starts with an empty schedule, so allow a burst's worth either way.
        assertTrue(back >= 40 && back <= 65, back + " requests in 5 s once Redis was back (expected about 50)");
        assertEquals(Map.of(200, statuses.get(200)), statuses, "no request failed because of Redis: " + statuses);
        assertTrue(Http.get(fleet.get(0).adminUrl() + "/metrics").body().contains("egress_cluster_redis_up 1.0"));
    }

    private static void ok(io.netty.channel.ChannelHandlerContext ctx) {
        var r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK, Unpooled.copiedBuffer("{}".getBytes()));
        r.headers().setInt("content-length", 2);
        ctx.writeAndFlush(r);
    }
}
