package io.modelegress.server.ratelimit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.modelegress.server.testing.Http;
import io.modelegress.server.testing.Sidecar;
import io.modelegress.server.testing.TestConfig;
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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class RateShapingTest {
    private final TestUpstream upstream = new TestUpstream();
    private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private Sidecar sidecar;

    RateShapingTest() throws Exception {}

    @AfterEach
    void tearDown() {
        if (sidecar != null) sidecar.close();
        upstream.close();
    }

    private void start(Consumer<TestConfig.Upstream> limits) throws Exception {
        sidecar = TestConfig.config().upstream("up", upstream.url(), limits).route("r", "/v1", "up").start();
    }

    private CompletableFuture<HttpResponse<String>> send() {
        return client.sendAsync(HttpRequest.newBuilder(URI.create(sidecar.url() + "/v1/chat/completions"))
                .timeout(Duration.ofSeconds(30)).POST(HttpRequest.BodyPublishers.ofString("{}")).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static void ok(io.netty.channel.ChannelHandlerContext ctx) {
        var r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK, Unpooled.copiedBuffer("{}".getBytes()));
        r.headers().setInt("content-length", 2);
        ctx.writeAndFlush(r);
    }

    @Test
    void a429WithRetryAfterPausesTheWholeQueueOfThatUpstream() throws Exception {
        start(u -> u.limit("max_queue", 100).limit("max_queue_wait", "10s"));
        AtomicInteger seen = new AtomicInteger();
        AtomicLong throttledAt = new AtomicLong();
        ConcurrentLinkedQueue<Long> laterArrivals = new ConcurrentLinkedQueue<>();
        CountDownLatch throttled = new CountDownLatch(1);
        upstream.script((ctx, req) -> {
            if (seen.getAndIncrement() == 0) {
                var r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.TOO_MANY_REQUESTS,
                        Unpooled.copiedBuffer("{\"error\":{\"code\":\"rate_limit_exceeded\"}}".getBytes()));
                r.headers().setInt("content-length", r.content().readableBytes()).set("retry-after-ms", "500");
                throttledAt.set(System.nanoTime());
                ctx.writeAndFlush(r);
                throttled.countDown();
            } else {
                laterArrivals.add(System.nanoTime());
                ok(ctx);
            }
        });
        CompletableFuture<HttpResponse<String>> first = send();
        assertTrue(throttled.await(10, TimeUnit.SECONDS));
        // The upstream has written its 429; wait until the sidecar has read it (its attempt counted as a 429), so
        // the requests below start after the pause began rather than racing the 429 on its way.
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(5)).until(() ->
                io.modelegress.server.testing.Http.get(sidecar.adminUrl() + "/metrics").body()
                        .contains("egress_upstream_attempts_total{result=\"429\",upstream=\"up\"} 1.0"));
        List<CompletableFuture<HttpResponse<String>>> others = new ArrayList<>();
        for (int i = 0; i < 10; i++) others.add(send());
        assertEquals(200, first.get().statusCode(), "the throttled request is retried after the pause");
        for (var f : others) assertEquals(200, f.get().statusCode());
        assertEquals(11, laterArrivals.size());
        for (long t : laterArrivals) {
            long ms = (t - throttledAt.get()) / 1_000_000;
            assertTrue(ms >= 500, "a request reached the paused upstream " + ms + "ms after its 429");
        }
    }

    @Test
    void anExhaustedQuotaInTheUpstreamsHeadersHoldsTheNextRequestUntilItsReset() throws Exception {
        start(u -> u.limit("max_queue", 10).limit("max_queue_wait", "10s"));
        AtomicInteger seen = new AtomicInteger();
        AtomicLong exhaustedAt = new AtomicLong();
        AtomicLong nextAt = new AtomicLong();
        upstream.script((ctx, req) -> {
            var r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK, Unpooled.copiedBuffer("{}".getBytes()));
            r.headers().setInt("content-length", 2);
            if (seen.getAndIncrement() == 0) {
                // OpenAI's quota headers, in mixed case as some gateways send them: a quota of 1 request, none
                // left, full again in 800 ms (with a larger limit the limiter refills linearly: see UpstreamWindow).
                r.headers().set("X-RateLimit-Limit-Requests", "1").set("X-RateLimit-Remaining-Requests", "0")
                        .set("X-RateLimit-Reset-Requests", "800ms");
                exhaustedAt.set(System.nanoTime());
            } else {
                nextAt.set(System.nanoTime());
            }
            ctx.writeAndFlush(r);
        });
        assertEquals(200, send().get().statusCode());
        assertEquals(200, send().get().statusCode());
        long ms = (nextAt.get() - exhaustedAt.get()) / 1_000_000;
        assertTrue(ms >= 700, "the next request reached the exhausted upstream " + ms + " ms after the answer that said none were left");
    }

    @Test
    void maxConcurrentHoldsUnderFiftyParallelAgents() throws Exception {
        start(u -> u.limit("max_concurrent", 8));
        AtomicInteger inFlight = new AtomicInteger();
        AtomicInteger maxSeen = new AtomicInteger();
        upstream.script((ctx, req) -> {
            maxSeen.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
            ctx.executor().schedule(() -> {
                inFlight.decrementAndGet();
                ok(ctx);
            }, 50, TimeUnit.MILLISECONDS);
        });
        List<CompletableFuture<HttpResponse<String>>> all = new ArrayList<>();
        for (int i = 0; i < 50; i++) all.add(send());
        for (var f : all) assertEquals(200, f.get().statusCode());
        assertTrue(maxSeen.get() <= 8, "upstream saw " + maxSeen.get() + " at once");
        assertTrue(maxSeen.get() >= 2, "requests did run in parallel: " + maxSeen.get());
        String m = Http.get(sidecar.adminUrl() + "/metrics").body();
        assertTrue(m.contains("egress_queue_wait_seconds_count{upstream=\"up\"}"), m);
    }

    @Test
    void aFullQueueAnswers429AtOnce() throws Exception {
        start(u -> u.limit("max_concurrent", 1).limit("max_queue", 1).limit("max_queue_wait", "10s"));
        CountDownLatch started = new CountDownLatch(1);
        upstream.script((ctx, req) -> started.countDown()); // holds the only slot
        CompletableFuture<HttpResponse<String>> holder = send();
        assertTrue(started.await(10, TimeUnit.SECONDS));
        CompletableFuture<HttpResponse<String>> waiting = send();
        // Give the second request time to reach the queue before the third arrives.
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5)).until(() ->
                Http.get(sidecar.adminUrl() + "/metrics").body().contains("egress_queue_depth{upstream=\"up\"} 1.0"));
        long t0 = System.nanoTime();
        HttpResponse<String> r = send().get();
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertEquals(429, r.statusCode(), r.body());
        assertEquals("rate_limited", r.headers().firstValue("x-egress-error").orElseThrow());
        assertEquals("true", r.headers().firstValue("x-should-retry").orElseThrow());
        assertTrue(r.headers().firstValue("retry-after").isPresent());
        assertTrue(r.headers().firstValue("retry-after-ms").isPresent());
        // At once means long before max_queue_wait (10s): generous enough for a loaded CI, far from a wait.
        assertTrue(ms < 3_000, "answered at once, not after waiting: " + ms + "ms");
        assertTrue(!holder.isDone() && !waiting.isDone());
    }
}
