package io.modelegress.server.retry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.openai.client.OpenAIClient;
import com.openai.core.http.StreamResponse;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import io.modelegress.server.testing.DeadPort;
import io.modelegress.server.testing.Http;
import io.modelegress.server.testing.Sdk;
import io.modelegress.server.testing.Sidecar;
import io.modelegress.server.testing.TestConfig;
import io.modelegress.server.testing.TestUpstream;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class RetryAndFallbackTest {
    private final TestUpstream primary = new TestUpstream();
    private final TestUpstream fallback = new TestUpstream();
    private final DeadPort deadPort = new DeadPort();
    private Sidecar sidecar;

    RetryAndFallbackTest() throws Exception {}

    @AfterEach
    void tearDown() {
        if (client != null) client.close();
        if (sidecar != null) sidecar.close();
        primary.close();
        fallback.close();
        deadPort.close();
    }

    private Sidecar start(String primaryUrl) throws Exception {
        sidecar = TestConfig.config()
                .timeout("connect", "300ms").timeout("first_token", "400ms").backoff("50ms", "200ms")
                .upstream("primary", primaryUrl, u -> u.breaker(3, "5s"))
                .upstream("fallback", fallback.url())
                .route("r", "/v1", r -> r.upstreams("primary").fallback("fallback", "big-model"))
                .start();
        return sidecar;
    }

    private static TestUpstream.Script sequence(TestUpstream.Script... scripts) {
        AtomicInteger n = new AtomicInteger();
        return (ctx, req) -> scripts[Math.min(n.getAndIncrement(), scripts.length - 1)].answer(ctx, req);
    }

    private static TestUpstream.Script status(int code, String body, String... headers) {
        return (ctx, req) -> {
            var r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(code),
                    Unpooled.copiedBuffer(body, StandardCharsets.UTF_8));
            r.headers().set("content-type", "application/json").setInt("content-length", r.content().readableBytes());
            for (int i = 0; i < headers.length; i += 2) r.headers().set(headers[i], headers[i + 1]);
            ctx.writeAndFlush(r);
        };
    }

    private static final String COMPLETION = "{\"id\":\"c\",\"object\":\"chat.completion\",\"created\":1,\"model\":\"%s\","
            + "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"ok\",\"refusal\":null},"
            + "\"logprobs\":null,\"finish_reason\":\"stop\"}]}";

    /** A fallback that answers with the model the sidecar rewrote the request to. */
    private static TestUpstream.Script echoModel() {
        return (ctx, req) -> {
            String body = req.content().toString(StandardCharsets.UTF_8);
            String model = body.replaceAll(".*\"model\"\\s*:\\s*\"([^\"]+)\".*", "$1");
            status(200, String.format(COMPLETION, model)).answer(ctx, req);
        };
    }

    @Test
    void a503ThenA200IsOneAnswerWithTwoAttempts() throws Exception {
        start(primary.url());
        primary.script(sequence(status(503, "{\"error\":{\"message\":\"busy\"}}"), status(200, "{\"ok\":1}")));
        // One upstream only: a route without fallback retries the same upstream.
        sidecar.close();
        sidecar = TestConfig.config().backoff("50ms", "200ms")
                .upstream("primary", primary.url()).route("r", "/v1", "primary").start();
        HttpResponse<String> r = Http.post(sidecar.url() + "/v1/chat/completions", "{}");
        assertEquals(200, r.statusCode());
        assertEquals("{\"ok\":1}", r.body());
        assertEquals("2", r.headers().firstValue("x-egress-attempts").orElseThrow());
        assertEquals(2, primary.receivedCount());
    }

    @Test
    void a429WithRetryAfterMsIsRetriedNoEarlierThanAsked() throws Exception {
        AtomicLong firstAnsweredAt = new AtomicLong();
        AtomicLong retryArrivedAt = new AtomicLong();
        sidecar = TestConfig.config().backoff("10ms", "20ms")
                .upstream("primary", primary.url()).route("r", "/v1", "primary").start();
        primary.script(sequence((ctx, req) -> {
            status(429, "{\"error\":{\"code\":\"rate_limit_exceeded\"}}", "retry-after-ms", "300").answer(ctx, req);
            firstAnsweredAt.set(System.nanoTime());
        }, (ctx, req) -> {
            retryArrivedAt.set(System.nanoTime());
            status(200, "{}").answer(ctx, req);
        }));
        HttpResponse<String> r = Http.post(sidecar.url() + "/v1/chat/completions", "{}");
        assertEquals(200, r.statusCode());
        long waitedMs = (retryArrivedAt.get() - firstAnsweredAt.get()) / 1_000_000;
        assertTrue(waitedMs >= 300, "retried after " + waitedMs + "ms");
    }

    @Test
    void aDeadPrimaryFailsOverToTheFallbackWithItsModel() throws Exception {
        start(deadPort.url());
        fallback.script(echoModel());
        ChatCompletion c = client().chat().completions().create(params());
        assertEquals("big-model", c.model());
    }

    @Test
    void aPrimaryThatSendsHeadersThenNothingFailsOverAtFirstToken() throws Exception {
        start(primary.url());
        primary.script((ctx, req) -> TestUpstream.sseHead(ctx));
        fallback.script((ctx, req) -> {
            TestUpstream.sseHead(ctx);
            TestUpstream.event(ctx, "data: " + chunk("big-model", "from fallback") + "\n\n");
            TestUpstream.event(ctx, "data: [DONE]\n\n");
            ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
        });
        List<String> models = new ArrayList<>();
        List<String> text = new ArrayList<>();
        long t0 = System.nanoTime();
        try (StreamResponse<ChatCompletionChunk> stream = client().chat().completions().createStreaming(params())) {
            stream.stream().forEach(c -> {
                models.add(c.model());
                text.add(c.choices().get(0).delta().content().orElse(""));
            });
        }
        assertEquals(List.of("big-model"), models);
        assertEquals(List.of("from fallback"), text);
        assertTrue((System.nanoTime() - t0) / 1_000_000 >= 400, "failed over only once first_token fired");
        assertTrue(fallback.take().body().contains("\"model\":\"big-model\""));
    }

    @Test
    void anInBandErrorAsTheFirstEventIsFailedOver() throws Exception {
        start(primary.url());
        primary.script((ctx, req) -> {
            TestUpstream.sseHead(ctx);
            TestUpstream.event(ctx, "data: {\"error\":{\"code\":\"server_error\",\"message\":\"The server had an error\"}}\n\n");
        });
        fallback.script((ctx, req) -> {
            TestUpstream.sseHead(ctx);
            TestUpstream.event(ctx, "data: " + chunk("big-model", "fine") + "\n\ndata: [DONE]\n\n");
            ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
        });
        try (StreamResponse<ChatCompletionChunk> stream = client().chat().completions().createStreaming(params())) {
            Iterator<ChatCompletionChunk> it = stream.stream().iterator();
            assertEquals("fine", it.next().choices().get(0).delta().content().orElseThrow());
        }
        assertEquals(1, fallback.receivedCount());
    }

    @Test
    void contextLengthExceededMovesToTheFallbackButAContentPolicyRejectionDoesNot() throws Exception {
        start(primary.url());
        fallback.script(echoModel());
        primary.script(status(400, "{\"error\":{\"message\":\"too long\",\"type\":\"invalid_request_error\",\"code\":\"context_length_exceeded\"}}"));
        HttpResponse<String> moved = Http.post(sidecar.url() + "/v1/chat/completions", "{\"model\":\"small\"}");
        assertEquals(200, moved.statusCode());
        assertTrue(moved.body().contains("big-model"));
        assertEquals("2", moved.headers().firstValue("x-egress-attempts").orElseThrow());

        String policy = "{\"error\":{\"message\":\"flagged\",\"type\":\"invalid_request_error\",\"code\":\"content_policy_violation\"}}";
        primary.script(status(400, policy));
        HttpResponse<String> kept = Http.post(sidecar.url() + "/v1/chat/completions", "{\"model\":\"small\"}");
        assertEquals(400, kept.statusCode());
        assertEquals(policy, kept.body(), "passed to the agent as is");
        assertTrue(kept.headers().firstValue("x-egress-error").isEmpty());
        assertEquals(1, fallback.receivedCount(), "only the context-length request reached the fallback");
    }

    @Test
    void anUpstream400IsPassedThroughWithOneAttempt() throws Exception {
        start(primary.url());
        primary.script(status(400, "{\"error\":{\"message\":\"bad\",\"code\":\"invalid_value\"}}"));
        HttpResponse<String> r = Http.post(sidecar.url() + "/v1/chat/completions", "{}");
        assertEquals(400, r.statusCode());
        assertEquals("1", r.headers().firstValue("x-egress-attempts").orElseThrow());
        assertEquals(1, primary.receivedCount());
        assertEquals(0, fallback.receivedCount());
    }

    @Test
    void aStreamThatBrokeAfterItsFirstChunkIsNeverRetried() throws Exception {
        start(primary.url());
        primary.script((ctx, req) -> {
            TestUpstream.sseHead(ctx);
            TestUpstream.event(ctx, "data: " + chunk("m", "part") + "\n\n");
            ctx.executor().schedule(() -> ctx.channel().close(), 50, java.util.concurrent.TimeUnit.MILLISECONDS);
        });
        HttpResponse<String> r = Http.post(sidecar.url() + "/v1/chat/completions", "{\"stream\":true}");
        assertEquals(200, r.statusCode());
        assertTrue(r.body().contains("part") && r.body().contains("upstream_reset"), r.body());
        assertEquals(1, primary.receivedCount());
        assertEquals(0, fallback.receivedCount());
    }

    @Test
    void withTheBreakerOpenAHundredRequestsFailFastAsUpstreamUnavailable() throws Exception {
        sidecar = TestConfig.config().maxAttempts(1)
                .upstream("primary", deadPort.url(), u -> u.breaker(3, "30s")).route("r", "/v1", "primary").start();
        for (int i = 0; i < 3; i++) assertEquals(502, Http.get(sidecar.url() + "/v1/models").statusCode());
        List<CompletableFuture<HttpResponse<String>>> all = new ArrayList<>();
        java.net.http.HttpClient c = java.net.http.HttpClient.newHttpClient();
        long t0 = System.nanoTime();
        for (int i = 0; i < 100; i++) {
            all.add(c.sendAsync(java.net.http.HttpRequest.newBuilder(java.net.URI.create(sidecar.url() + "/v1/models"))
                    .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString()));
        }
        for (CompletableFuture<HttpResponse<String>> f : all) {
            HttpResponse<String> r = f.get();
            assertEquals(503, r.statusCode());
            assertEquals("upstream_unavailable", r.headers().firstValue("x-egress-error").orElseThrow());
            long retryAfter = Long.parseLong(r.headers().firstValue("retry-after").orElseThrow());
            assertTrue(retryAfter > 0 && retryAfter <= 30, "retry-after " + retryAfter);
        }
        long ms = (System.nanoTime() - t0) / 1_000_000;
        // Fast: no connect, no wait for the 30s cooldown; bounded generously for a loaded 2-core CI.
        assertTrue(ms < 4_000, "100 requests took " + ms + "ms");
        String metrics = Http.get(sidecar.adminUrl() + "/metrics").body();
        assertTrue(metrics.contains("egress_breaker_open{model=\"\",upstream=\"primary\"} 1.0"), metrics);
    }

    private OpenAIClient client;

    private OpenAIClient client() {
        return client = Sdk.client(sidecar);
    }

    private static ChatCompletionCreateParams params() {
        return ChatCompletionCreateParams.builder().model("small").addUserMessage("hi").build();
    }

    private static String chunk(String model, String text) {
        return "{\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"" + model + "\","
                + "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"" + text + "\"},\"finish_reason\":null}]}";
    }
}
