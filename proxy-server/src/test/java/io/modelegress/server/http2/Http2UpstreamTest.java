package io.modelegress.server.http2;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.openai.client.OpenAIClient;
import com.openai.core.http.StreamResponse;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import io.modelegress.server.testing.AccessLogCapture;
import io.modelegress.server.testing.H2Upstream;
import io.modelegress.server.testing.Http;
import io.modelegress.server.testing.Sdk;
import io.modelegress.server.testing.Sidecar;
import io.modelegress.server.testing.TestConfig;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The sidecar against a real HTTP/2 server over TLS on loopback: ALPN, multiplexing, GOAWAY, resets, fallback. */
@Timeout(60)
class Http2UpstreamTest {
    private static final String CHAT = "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\",\"created\":1,\"model\":\"gpt-4o-mini\","
            + "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"Hello!\"},\"finish_reason\":\"stop\"}]}";
    @TempDir
    Path dir;

    static Sidecar sidecar(H2Upstream up, Consumer<TestConfig.Upstream> spec) throws Exception {
        return TestConfig.config().set("tls.ca_bundle", up.caBundle().toString()).ignoreEnvironmentProxy()
                .upstream("up", up.url(), spec).route("r", "/v1", "up").start();
    }

    static Sidecar sidecar(H2Upstream up) throws Exception { return sidecar(up, u -> { }); }

    static ChatCompletionCreateParams params() {
        return ChatCompletionCreateParams.builder().model("gpt-4o-mini").addUserMessage("Say hello").build();
    }

    static String chunk(String text) {
        return "{\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o-mini\","
                + "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"" + text + "\"},\"finish_reason\":null}]}";
    }

    /** A short stream: {@code events} chunks {@code gapMillis} apart, then [DONE]. */
    static void stream(H2Upstream.Request r, int events, long gapMillis) {
        r.sseHead();
        AtomicInteger left = new AtomicInteger(events);
        Runnable[] next = new Runnable[1];
        next[0] = () -> {
            if (left.getAndDecrement() > 0) {
                r.event("data: " + chunk("x") + "\n\n");
                r.later(gapMillis, next[0]);
            } else {
                r.event("data: [DONE]\n\n");
                r.end();
            }
        };
        next[0].run();
    }

    @Test
    void sdkCompletionGoesOverH2WithoutHopByHopHeaders() throws Exception {
        try (H2Upstream up = new H2Upstream(dir, true, 0); Sidecar s = sidecar(up)) {
            up.script(r -> r.json(200, CHAT));
            OpenAIClient client = Sdk.client(s);
            ChatCompletion c = client.chat().completions().create(params());
            assertEquals("Hello!", c.choices().get(0).message().content().orElseThrow());
            H2Upstream.Received got = up.take();
            assertEquals("h2", got.protocol());
            assertEquals("/v1/chat/completions", got.uri());
            assertEquals("127.0.0.1:" + up.port(), got.header("host")); // :authority, as the server's codec shows it
            assertNull(got.header("connection"));
            assertNull(got.header("transfer-encoding"));
            assertTrue(got.body().contains("\"Say hello\""));
        }
    }

    @Test
    void sdkStreamIsRelayedOverH2() throws Exception {
        try (H2Upstream up = new H2Upstream(dir, true, 0); Sidecar s = sidecar(up)) {
            up.script(r -> stream(r, 3, 20));
            List<String> parts = new ArrayList<>();
            try (StreamResponse<ChatCompletionChunk> stream = Sdk.client(s).chat().completions().createStreaming(params())) {
                stream.stream().forEach(ch -> parts.add(ch.choices().get(0).delta().content().orElseThrow()));
            }
            assertEquals(List.of("x", "x", "x"), parts);
            assertEquals("h2", up.take().protocol());
            // The stream id Netty's codec adds is not the upstream's header: the agent does not see it.
            HttpResponse<String> r = Http.post(s.url() + "/v1/chat/completions", "{}");
            assertFalse(r.headers().firstValue("x-http2-stream-id").isPresent(), r.headers().toString());
            int loops = Runtime.getRuntime().availableProcessors();
            assertTrue(up.connections() <= loops, "one connection per event loop at most: " + up.connections());
        }
    }

    @Test
    void concurrentRequestsShareFewConnectionsWithinTheServersStreamLimit() throws Exception {
        int n = 50;
        int max = 10;
        try (H2Upstream up = new H2Upstream(dir, true, max); Sidecar s = sidecar(up)) {
            CountDownLatch all = new CountDownLatch(n);
            // Every answer waits until all n requests arrived: they are in flight at once.
            up.script(r -> {
                all.countDown();
                CompletableFuture.runAsync(() -> {
                    try {
                        all.await(20, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }).thenRun(() -> r.channel.eventLoop().execute(() -> r.json(200, CHAT)));
            });
            List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
            for (int i = 0; i < n; i++) calls.add(ownConnection(s, "{}"));
            for (var c : calls) assertEquals(200, c.get(30, TimeUnit.SECONDS).statusCode());
            int loops = Runtime.getRuntime().availableProcessors();
            int bound = (n + max - 1) / max + loops - 1; // ceil(n/max) per loop, the loops' shares rounded up
            assertTrue(up.connections() <= bound, up.connections() + " connections for " + n + " streams (at most " + bound + ")");
            assertTrue(up.maxConcurrentStreamsSeen() <= max, "a connection carried " + up.maxConcurrentStreamsSeen() + " streams");
            assertTrue(up.drain().stream().allMatch(x -> x.protocol().equals("h2")));
        }
    }

    /** Each call on its own agent connection (an HTTP/1.1 client per call), so the sidecar's loops share them out. */
    static CompletableFuture<HttpResponse<String>> ownConnection(Sidecar s, String body) {
        HttpClient c = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
        return c.sendAsync(HttpRequest.newBuilder(URI.create(s.url() + "/v1/chat/completions")).timeout(Duration.ofSeconds(30))
                .header("content-type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void goAwayMidLoadFailsNoRequestAndLaterOnesUseANewConnection() throws Exception {
        int n = 40;
        try (H2Upstream up = new H2Upstream(dir, true, 100); Sidecar s = sidecar(up)) {
            AtomicInteger seen = new AtomicInteger();
            up.script(r -> {
                stream(r, 5, 40);
                if (seen.incrementAndGet() == 10) r.gracefulGoAway(); // with 9 others in flight and more on their way
            });
            List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
            for (int i = 0; i < n; i++) calls.add(ownConnection(s, "{\"stream\":true}"));
            for (var c : calls) {
                HttpResponse<String> r = c.get(30, TimeUnit.SECONDS);
                assertEquals(200, r.statusCode(), r.body());
                assertTrue(r.body().endsWith("data: [DONE]\n\n"), r.body());
                assertFalse(r.body().contains("error"), r.body());
            }
            assertTrue(up.connections() >= 2, "after GOAWAY new streams went to a new connection: " + up.connections());
            assertEquals(List.of(), up.resetsReceived(), "RST_STREAMs sent");
        }
    }

    @Test
    void aStreamAboveTheGoAwaysLastStreamIdIsReplayedOnANewConnection() throws Exception {
        try (H2Upstream up = new H2Upstream(dir, true, 100)) {
            CompletableFuture<H2Upstream.Request> first = new CompletableFuture<>();
            AtomicInteger seen = new AtomicInteger();
            up.script(r -> {
                int n = seen.incrementAndGet();
                if (n == 1) {
                    first.complete(r); // held: in flight on connection 1
                } else if (n == 2) {
                    H2Upstream.Request a = first.getNow(null);
                    r.goAway(a.streamId()); // this second stream is above it: refused, never processed
                    a.later(100, () -> a.json(200, CHAT)); // the first still finishes on the draining connection
                } else {
                    r.json(200, CHAT);
                }
            });
            Sidecar s;
            System.setProperty("modelegress.threads", "1"); // one loop: both requests share one h2 connection
            try {
                s = sidecar(up);
            } finally {
                System.clearProperty("modelegress.threads");
            }
            try (s) {
                CompletableFuture<HttpResponse<String>> a = ownConnection(s, "{}");
                first.get(10, TimeUnit.SECONDS);
                CompletableFuture<HttpResponse<String>> b = ownConnection(s, "{}");
                assertEquals(200, a.get(10, TimeUnit.SECONDS).statusCode());
                HttpResponse<String> rb = b.get(10, TimeUnit.SECONDS);
                assertEquals(200, rb.statusCode(), rb.body());
                assertEquals(3, seen.get(), "the refused stream was sent once more");
                List<H2Upstream.Received> got = up.drain();
                assertEquals(2, got.get(2).connection(), "the replay went to a new connection: " + got);
                // The GOAWAY closed the refused stream: no RST_STREAM for it (a server that never created a stream
                // may count a reset of it as a connection error and end the streams still running).
                assertEquals(List.of(), up.resetsReceived(), "RST_STREAMs sent");
            }
        }
    }

    @Test
    void aStreamResetBeforeTheHeadIsUpstreamReset() throws Exception {
        try (H2Upstream up = new H2Upstream(dir, true, 0); Sidecar s = TestConfig.config()
                .set("tls.ca_bundle", up.caBundle().toString()).ignoreEnvironmentProxy().maxAttempts(1)
                .upstream("up", up.url()).route("r", "/v1", "up").start()) {
            up.script(H2Upstream.Request::reset);
            HttpResponse<String> r = Http.post(s.url() + "/v1/chat/completions", "{}");
            assertEquals("upstream_reset", r.headers().firstValue("x-egress-error").orElseThrow(), r.body());
            assertTrue(r.body().contains("\"code\":\"upstream_reset\""), r.body());
            assertTrue(r.body().contains("INTERNAL_ERROR"), r.body());
        }
    }

    @Test
    void aRefusedStreamIsReplayedEvenWhereResetsAreNotRetried() throws Exception {
        try (H2Upstream up = new H2Upstream(dir, true, 0); Sidecar s = TestConfig.config()
                .set("tls.ca_bundle", up.caBundle().toString()).ignoreEnvironmentProxy().retry("retry_on", java.util.List.of("429"))
                .upstream("up", up.url()).route("r", "/v1", "up").start()) {
            AtomicInteger seen = new AtomicInteger();
            // REFUSED_STREAM (RFC 9113 §8.7): the server did not act on it, so it is safe on another stream.
            up.script(r -> {
                if (seen.incrementAndGet() == 1) r.reset(io.netty.handler.codec.http2.Http2Error.REFUSED_STREAM);
                else r.json(200, CHAT);
            });
            HttpResponse<String> r = Http.post(s.url() + "/v1/chat/completions", "{}");
            assertEquals(200, r.statusCode(), r.body());
            assertEquals(2, seen.get());
        }
    }

    @Test
    void aStreamResetMidStreamEndsItWithAnErrorEvent() throws Exception {
        try (H2Upstream up = new H2Upstream(dir, true, 0); Sidecar s = sidecar(up)) {
            up.script(r -> {
                r.sseHead();
                r.event("data: " + chunk("Hel") + "\n\n").addListener(f -> r.later(50, r::reset));
            });
            HttpResponse<String> r = Http.post(s.url() + "/v1/chat/completions", "{\"stream\":true}");
            assertEquals(200, r.statusCode());
            assertTrue(r.body().contains("Hel"), r.body());
            assertTrue(r.body().contains("upstream_reset"), r.body());
        }
    }

    @Test
    void http2OffKeepsTheUpstreamOnHttp1() throws Exception {
        try (H2Upstream up = new H2Upstream(dir, true, 0); Sidecar s = sidecar(up, u -> u.set("http2", "off"))) {
            assertEquals(200, Http.post(s.url() + "/v1/chat/completions", "{}").statusCode());
            assertEquals("h1", up.take().protocol());
        }
    }

    @Test
    void anUpstreamOfferingOnlyHttp1ByAlpnIsServedOverHttp1() throws Exception {
        try (H2Upstream up = new H2Upstream(dir, false, 0); Sidecar s = sidecar(up)) {
            up.script(r -> r.json(200, CHAT));
            for (int i = 0; i < 3; i++) assertEquals(200, Http.post(s.url() + "/v1/chat/completions", "{}").statusCode());
            for (int i = 0; i < 3; i++) assertEquals("h1", up.take().protocol());
            assertEquals(1, up.connections(), "keep-alive as before");
        }
    }

    @Test
    void accessLogAndMetricsTellStreamsFromConnections() throws Exception {
        try (H2Upstream up = new H2Upstream(dir, true, 0); AccessLogCapture log = new AccessLogCapture(); Sidecar s = sidecar(up)) {
            CompletableFuture<H2Upstream.Request> held = new CompletableFuture<>();
            up.script(held::complete);
            CompletableFuture<HttpResponse<String>> call = ownConnection(s, "{}");
            H2Upstream.Request r = held.get(10, TimeUnit.SECONDS);
            String during = Http.get(s.adminUrl() + "/metrics").body();
            assertTrue(during.contains("egress_upstream_streams{upstream=\"up\"} 1.0"), during);
            assertTrue(during.contains("egress_upstream_connections{state=\"active\",upstream=\"up\"} 1.0"), during);
            r.channel.eventLoop().execute(() -> r.json(200, CHAT));
            assertEquals(200, call.get(10, TimeUnit.SECONDS).statusCode());
            Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> log.lines().stream().anyMatch(l -> l.contains("\"upstream_protocol\":\"h2\"")));
            Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> {
                String after = Http.get(s.adminUrl() + "/metrics").body();
                return after.contains("egress_upstream_streams{upstream=\"up\"} 0.0")
                        && after.contains("egress_upstream_connections{state=\"idle\",upstream=\"up\"} 1.0");
            });
        }
    }

    @Test
    void theHealthCheckProbesAnEjectedH2UpstreamOnAStream() throws Exception {
        try (H2Upstream up = new H2Upstream(dir, true, 0)) {
            java.util.concurrent.atomic.AtomicBoolean healthy = new java.util.concurrent.atomic.AtomicBoolean();
            AtomicInteger probes = new AtomicInteger();
            up.script(r -> {
                if (r.received.uri().equals("/v1/models")) probes.incrementAndGet();
                if (healthy.get()) r.json(200, "{\"data\":[]}");
                else r.json(503, "{\"error\":{\"message\":\"down\"}}");
            });
            try (Sidecar s = sidecar(up, u -> u.breaker(1, "30s").set("health", java.util.Map.of("path", "/v1/models", "interval", "200ms")))) {
                assertEquals(503, Http.post(s.url() + "/v1/chat/completions", "{}").statusCode());
                Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> probes.get() >= 1);
                healthy.set(true);
                // Without the probe's answer the ejection would last its 30 s cooldown.
                Awaitility.await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(100))
                        .until(() -> Http.post(s.url() + "/v1/chat/completions", "{}").statusCode() == 200);
                assertTrue(up.drain().stream().allMatch(x -> x.protocol().equals("h2")));
            }
        }
    }

    @Test
    void aWebSocketUpgradeGoesOverHttp1EvenToAnUpstreamThatOffersH2() throws Exception {
        try (H2Upstream up = new H2Upstream(dir, true, 0); Sidecar s = TestConfig.config()
                .set("tls.ca_bundle", up.caBundle().toString()).ignoreEnvironmentProxy()
                .upstream("up", up.url()).route("r", "/v1", r -> r.upstreams("up").set("websocket", true)).start()) {
            up.script(r -> r.json(403, "{\"error\":{\"message\":\"no sockets here\"}}"));
            CompletableFuture<java.net.http.WebSocket> ws = HttpClient.newHttpClient().newWebSocketBuilder()
                    .buildAsync(URI.create("ws://127.0.0.1:" + s.port() + "/v1/realtime"), new java.net.http.WebSocket.Listener() { });
            try {
                ws.get(10, TimeUnit.SECONDS).abort();
            } catch (java.util.concurrent.ExecutionException expected) {
                // the upstream refused the upgrade: what matters is how it was asked
            }
            H2Upstream.Received got = up.take();
            assertEquals("h1", got.protocol(), "HTTP/1.1's Upgrade has no h2 form here");
            assertEquals("websocket", got.header("upgrade"));
        }
    }
}
