package io.modelegress.server.retry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.errors.InternalServerException;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import io.modelegress.server.testing.Http;
import io.modelegress.server.testing.Sidecar;
import io.modelegress.server.testing.TestUpstream;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Retry where it helps, move where it does not: an upstream that answered "come back soon" is waited for when the
 * wait fits; a longer wait moves to the fallback at once; the agent's SDK never multiplies the sidecar's attempts.
 */
@Timeout(60)
class FailoverTest {
    private final TestUpstream primary = new TestUpstream();
    private final TestUpstream fallback = new TestUpstream();
    private final Sidecar sidecar = Sidecar.start("proxy: { use_environment: false }\n"
            + "retry: { backoff: { base: 50ms, max: 100ms } }\n"
            + "upstreams:\n  primary: { url: \"" + primary.url() + "\" }\n  fallback: { url: \"" + fallback.url() + "\" }\n"
            + "  lonely: { url: \"" + primary.url() + "\" }\n"
            + "routes:\n  - { name: r, prefix: /v1, upstreams: [primary, fallback] }\n"
            + "  - { name: single, prefix: /single, upstreams: [lonely] }\n");

    FailoverTest() throws Exception {
        fallback.script(TestUpstream.json(200, "{\"from\":\"fallback\"}"));
    }

    @AfterEach
    void tearDown() {
        sidecar.close();
        primary.close();
        fallback.close();
    }

    /** Answers {@code status} with {@code retry-after} the first {@code times} times, then 200 from the primary. */
    private void failThenAnswer(int times, int status, String retryAfter) {
        AtomicInteger n = new AtomicInteger();
        primary.script((ctx, req) -> {
            if (n.getAndIncrement() < times) {
                var r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(status),
                        Unpooled.copiedBuffer("{\"error\":{\"message\":\"busy\"}}", StandardCharsets.UTF_8));
                r.headers().set("content-type", "application/json").setInt("content-length", r.content().readableBytes());
                if (retryAfter != null) r.headers().set("retry-after", retryAfter);
                ctx.writeAndFlush(r);
            } else {
                TestUpstream.json(200, "{\"from\":\"primary\"}").answer(ctx, req);
            }
        });
    }

    @Test
    void a429WithRetryAfter2IsAnsweredByThePrimaryAfterTwoSecondsNotByTheFallback() throws Exception {
        failThenAnswer(1, 429, "2");
        long t0 = System.nanoTime();
        HttpResponse<String> r = Http.post(sidecar.url() + "/v1/chat/completions", "{}");
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertEquals(200, r.statusCode());
        assertEquals("{\"from\":\"primary\"}", r.body());
        assertTrue(ms >= 2000, "the primary's Retry-After was waited out: " + ms + "ms");
        assertEquals("2", r.headers().firstValue("x-egress-attempts").orElse(null));
        assertEquals(0, fallback.receivedCount());
    }

    @Test
    void a429WithRetryAfter60GoesToTheFallbackAtOnce() throws Exception {
        failThenAnswer(1, 429, "60");
        long t0 = System.nanoTime();
        HttpResponse<String> r = Http.post(sidecar.url() + "/v1/chat/completions", "{}");
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertEquals("{\"from\":\"fallback\"}", r.body());
        assertTrue(ms < 10_000, "not after the minute the primary asked for: " + ms + "ms");
        assertEquals(1, primary.receivedCount());
    }

    @Test
    void a500Then200IsAnsweredByThePrimaryWithTwoAttempts() throws Exception {
        failThenAnswer(1, 500, null);
        HttpResponse<String> r = Http.post(sidecar.url() + "/v1/chat/completions", "{}");
        assertEquals("{\"from\":\"primary\"}", r.body());
        assertEquals("2", r.headers().firstValue("x-egress-attempts").orElse(null));
        assertEquals(0, fallback.receivedCount());
    }

    @Test
    void persistent503sEndOnTheFallbackNotAsAnErrorToTheAgent() throws Exception {
        failThenAnswer(1000, 503, null);
        HttpResponse<String> r = Http.post(sidecar.url() + "/v1/chat/completions", "{}");
        assertEquals("{\"from\":\"fallback\"}", r.body());
        assertEquals("3", r.headers().firstValue("x-egress-attempts").orElse(null));
        assertEquals(2, primary.receivedCount(), "attempts_per_upstream on the primary, then the fallback");
    }

    @Test
    void theOpenAiSdkAtItsDefaultRetriesAgainstAnAlways503UpstreamMakesItSeeExactlyMaxAttempts() {
        failThenAnswer(1000, 503, null);
        OpenAIClient client = OpenAIOkHttpClient.builder().apiKey("dummy").baseUrl(sidecar.url() + "/single")
                .timeout(Duration.ofSeconds(30)).build(); // maxRetries left at the SDK's default (2)
        try {
            assertThrows(InternalServerException.class, () -> client.chat().completions()
                    .create(ChatCompletionCreateParams.builder().model("m").addUserMessage("hi").build()));
        } finally {
            client.close();
        }
        assertEquals(3, primary.receivedCount(), "max_attempts (3), not 3 SDK attempts x 3 sidecar attempts");
    }

    @Test
    void aPassedThroughErrorAfterRetriesTellsTheAgentNotToRetryAndKeepsRetryAfter() throws Exception {
        failThenAnswer(1000, 503, "1");
        HttpResponse<String> r = Http.post(sidecar.url() + "/single/chat/completions", "{}");
        assertEquals(503, r.statusCode());
        assertEquals("false", r.headers().firstValue("x-should-retry").orElse(null));
        assertEquals("1", r.headers().firstValue("retry-after").orElse(null));
        assertTrue(r.headers().firstValue("x-egress-error").isEmpty(), "still the upstream's own answer");
    }

    @Test
    void aHedgedStreamIsAnsweredByTheFasterUpstreamAndTheSlowerOnesConnectionIsClosed() throws Exception {
        try (TestUpstream slow = new TestUpstream(); TestUpstream fast = new TestUpstream();
             Sidecar hedged = Sidecar.start("proxy: { use_environment: false }\n"
                     + "upstreams:\n  slow: { url: \"" + slow.url() + "\" }\n  fast: { url: \"" + fast.url() + "\" }\n"
                     + "routes:\n  - { name: h, prefix: /v1, upstreams: [slow, fast], hedge_after: 300ms }\n")) {
            slow.script((ctx, req) -> TestUpstream.sseHead(ctx)); // headers, then nothing: a model stuck in a queue
            fast.script((ctx, req) -> {
                TestUpstream.sseHead(ctx);
                TestUpstream.event(ctx, "data: {\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,"
                        + "\"delta\":{\"content\":\"fast\"},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n");
                ctx.writeAndFlush(io.netty.handler.codec.http.LastHttpContent.EMPTY_LAST_CONTENT);
            });
            long t0 = System.nanoTime();
            HttpResponse<String> r = Http.post(hedged.url() + "/v1/chat/completions", "{\"stream\":true}");
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertEquals(200, r.statusCode());
            assertTrue(r.body().contains("\"content\":\"fast\"") && r.body().endsWith("data: [DONE]\n\n"), r.body());
            assertTrue(ms >= 300, "the hedge starts after hedge_after: " + ms + "ms");
            assertEquals(1, slow.receivedCount());
            assertEquals(1, fast.receivedCount());
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5)).until(slow::allConnectionsClosed);
            String metrics = Http.get(hedged.adminUrl() + "/metrics").body();
            assertTrue(metrics.contains("egress_hedges_total{outcome=\"hedge_won\"} 1.0"), metrics);
            assertTrue(metrics.contains("egress_retries_total{reason=\"hedge\"} 1.0"), metrics);
        }
    }

    @Test
    void aPrimaryThatAnswersBeforeHedgeAfterIsNeverHedged() throws Exception {
        try (TestUpstream quick = new TestUpstream(); TestUpstream spare = new TestUpstream();
             Sidecar hedged = Sidecar.start("proxy: { use_environment: false }\n"
                     + "upstreams:\n  quick: { url: \"" + quick.url() + "\" }\n  spare: { url: \"" + spare.url() + "\" }\n"
                     + "routes:\n  - { name: h, prefix: /v1, upstreams: [quick, spare], hedge_after: 2s }\n")) {
            quick.script(TestUpstream.json(200, "{\"from\":\"quick\"}"));
            assertEquals("{\"from\":\"quick\"}", Http.post(hedged.url() + "/v1/chat/completions", "{}").body());
            assertEquals(0, spare.receivedCount());
        }
    }
}
