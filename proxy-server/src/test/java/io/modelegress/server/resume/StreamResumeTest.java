package io.modelegress.server.resume;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.StreamResponse;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import io.modelegress.server.testing.Http;
import io.modelegress.server.testing.Sidecar;
import io.modelegress.server.testing.TestUpstream;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.LastHttpContent;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Mid-stream resume (issue 16) on loopback, the official OpenAI Java SDK as the agent: a stream that breaks after
 * tokens reached the agent ends as the one whole answer, or — where it cannot be continued honestly — with the
 * original error, as before.
 */
@Timeout(30)
class StreamResumeTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int TOKENS = 60;
    private static final int CUT_AT = 40;

    private final TestUpstream upstream = new TestUpstream();
    private final AtomicInteger requests = new AtomicInteger();
    private final List<String> bodies = new java.util.concurrent.CopyOnWriteArrayList<>();
    private Sidecar sidecar;
    private OpenAIClient client;

    StreamResumeTest() throws Exception {}

    private void start(String strategy, String on, String limits) throws Exception {
        sidecar = Sidecar.start((limits == null ? "" : limits) + "upstreams:\n  up:\n    url: " + upstream.url() + "\n"
                + "    resume_strategy: " + strategy + "\n"
                + "routes:\n  - { name: r, prefix: /v1, upstreams: [up], resume: { on: [" + on + "] } }\n");
        client = OpenAIOkHttpClient.builder().apiKey("dummy").baseUrl(sidecar.url() + "/v1")
                .timeout(Duration.ofSeconds(20)).maxRetries(0).build();
    }

    @AfterEach
    void tearDown() {
        if (client != null) client.close();
        if (sidecar != null) sidecar.close();
        upstream.close();
    }

    static String token(int i) { return "w" + i + " "; }

    static String answer(int from, int to) {
        StringBuilder b = new StringBuilder();
        for (int i = from; i < to; i++) b.append(token(i));
        return b.toString();
    }

    static String chunk(String id, String deltaJson, String finish) {
        return "data: {\"id\":\"" + id + "\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\","
                + "\"choices\":[{\"index\":0,\"delta\":" + deltaJson + ",\"logprobs\":null,\"finish_reason\":"
                + (finish == null ? "null" : "\"" + finish + "\"") + "}]}\n\n";
    }

    static String text(String id, String t) { return chunk(id, "{\"content\":\"" + t + "\"}", null); }

    /** A stream: the role preamble, tokens [from, to) in chunks of {@code per}, and (when {@code finish}) the end. */
    static void stream(ChannelHandlerContext ctx, String id, int from, int to, int per, boolean finish) {
        TestUpstream.sseHead(ctx);
        TestUpstream.event(ctx, chunk(id, "{\"role\":\"assistant\",\"content\":\"\"}", null));
        for (int i = from; i < to; i += per) TestUpstream.event(ctx, text(id, answer(i, Math.min(to, i + per))));
        if (!finish) return;
        TestUpstream.event(ctx, chunk(id, "{}", "stop"));
        TestUpstream.event(ctx, "data: [DONE]\n\n");
        ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
    }

    /** The first request: 40 of the 60 tokens, then the connection is cut (a reset mid-stream). */
    static void cutAfter40(ChannelHandlerContext ctx) {
        stream(ctx, "c1", 0, CUT_AT, 1, false);
        ctx.executor().schedule(() -> ctx.channel().close(), 50, TimeUnit.MILLISECONDS);
    }

    private void script(TestUpstream.Script... answers) {
        upstream.script((ctx, req) -> {
            bodies.add(req.content().toString(StandardCharsets.UTF_8));
            int n = requests.getAndIncrement();
            answers[Math.min(n, answers.length - 1)].answer(ctx, req);
        });
    }

    private static ChatCompletionCreateParams params() {
        return ChatCompletionCreateParams.builder().model("m").addUserMessage("count to 60").build();
    }

    /** What the agent's SDK read: every chunk's id and the concatenated text, or the exception that ended it. */
    private record Read(List<String> ids, String text, List<String> finishes, RuntimeException error) {}

    private Read readStream() {
        List<String> ids = new ArrayList<>();
        List<String> finishes = new ArrayList<>();
        StringBuilder text = new StringBuilder();
        try (StreamResponse<ChatCompletionChunk> s = client.chat().completions().createStreaming(params())) {
            s.stream().forEach(c -> {
                ids.add(c.id());
                for (ChatCompletionChunk.Choice ch : c.choices()) {
                    ch.delta().content().ifPresent(text::append);
                    ch.finishReason().ifPresent(f -> finishes.add(f.toString()));
                }
            });
        } catch (RuntimeException e) {
            return new Read(ids, text.toString(), finishes, e);
        }
        return new Read(ids, text.toString(), finishes, null);
    }

    private String metrics() throws Exception { return Http.get(sidecar.adminUrl() + "/metrics").body(); }

    @Test
    void aStreamCutAfter40Of60TokensEndsAsTheWhole60TokenAnswerThroughPrefill() throws Exception {
        start("prefill", "reset", null);
        script((ctx, req) -> cutAfter40(ctx), (ctx, req) -> stream(ctx, "c2", CUT_AT, TOKENS, 1, true));
        Read r = readStream();
        assertEquals(null, r.error());
        assertEquals(answer(0, TOKENS), r.text());
        assertEquals(List.of("stop"), r.finishes());
        assertTrue(r.ids().stream().allMatch("c1"::equals), "one stream, the original id: " + r.ids());
        assertEquals(2, requests.get());
        JsonNode cont = JSON.readTree(bodies.get(1));
        assertTrue(cont.path("continue_final_message").asBoolean(), bodies.get(1));
        assertFalse(cont.path("add_generation_prompt").asBoolean(true), bodies.get(1));
        JsonNode last = cont.path("messages").get(cont.path("messages").size() - 1);
        assertEquals("assistant", last.path("role").asText());
        assertEquals(answer(0, CUT_AT), last.path("content").asText());
        String m = metrics();
        assertTrue(m.contains("egress_resumes_total{outcome=\"ok\",route=\"r\",strategy=\"prefill\"} 1.0"), m);
    }

    @Test
    void theSameThroughReplayOnAnUpstreamThatRefusesPrefill() throws Exception {
        start("prefill", "reset", null);
        script((ctx, req) -> cutAfter40(ctx),
                TestUpstream.json(400, "{\"error\":{\"message\":\"continue_final_message is not supported\",\"type\":\"invalid_request_error\"}}"),
                // The replay regenerates the same answer from the start, chunked differently (3 tokens a chunk).
                (ctx, req) -> stream(ctx, "c3", 0, TOKENS, 3, true));
        Read r = readStream();
        assertEquals(null, r.error());
        assertEquals(answer(0, TOKENS), r.text());
        assertTrue(r.ids().stream().allMatch("c1"::equals), r.ids().toString());
        assertEquals(3, requests.get());
        assertEquals(bodies.get(0), bodies.get(2), "a replay is the agent's request unchanged");
        String m = metrics();
        assertTrue(m.contains("egress_resumes_total{outcome=\"rejected\",route=\"r\",strategy=\"prefill\"} 1.0"), m);
        assertTrue(m.contains("egress_resumes_total{outcome=\"ok\",route=\"r\",strategy=\"replay\"} 1.0"), m);
    }

    @Test
    void aStreamThatGoesSilentIsResumedAfterStreamIdle() throws Exception {
        start("replay", "stream_idle", "timeouts: { stream_idle: 300ms }\n");
        script((ctx, req) -> stream(ctx, "c1", 0, CUT_AT, 1, false), // then silence, the connection open
                (ctx, req) -> stream(ctx, "c2", 0, TOKENS, 2, true));
        long t0 = System.nanoTime();
        Read r = readStream();
        assertEquals(null, r.error());
        assertEquals(answer(0, TOKENS), r.text());
        assertEquals(2, requests.get());
        assertTrue(System.nanoTime() - t0 >= TimeUnit.MILLISECONDS.toNanos(250), "resumed only once stream_idle passed");
    }

    @Test
    void aContinuationRejectedWith400GivesTheAgentTheOriginalUpstreamResetNotThe400() throws Exception {
        start("prefill", "reset", null);
        script((ctx, req) -> cutAfter40(ctx),
                TestUpstream.json(400, "{\"error\":{\"message\":\"prefill not supported\",\"type\":\"invalid_request_error\"}}"));
        Read r = readStream();
        assertEquals(answer(0, CUT_AT), r.text(), "what was sent stays, nothing is added");
        RuntimeException e = r.error();
        assertTrue(e != null, "the stream ends with an error");
        String all = e + " " + e.getMessage();
        assertTrue(all.contains("upstream_reset") || all.contains("closed the connection mid-response"), all);
        assertFalse(all.contains("prefill not supported"), all);
        assertEquals(3, requests.get(), "prefill, then replay, each rejected");
    }

    @Test
    void aBreakInsideToolCallArgumentsIsNotResumed() throws Exception {
        start("prefill", "reset", null);
        script((ctx, req) -> {
            TestUpstream.sseHead(ctx);
            TestUpstream.event(ctx, chunk("c1", "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"index\":0,"
                    + "\"id\":\"call_1\",\"type\":\"function\",\"function\":{\"name\":\"f\",\"arguments\":\"\"}}]}", null));
            TestUpstream.event(ctx, chunk("c1", "{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"{\\\"city\\\":\"}}]}", null));
            ctx.executor().schedule(() -> ctx.channel().close(), 50, TimeUnit.MILLISECONDS);
        }, (ctx, req) -> stream(ctx, "c2", 0, TOKENS, 1, true));
        Read r = readStream();
        assertTrue(r.error() != null, "the agent gets the error event, as without resume");
        assertEquals(1, requests.get(), "no continuation was sent");
        String m = metrics();
        assertTrue(m.contains("egress_resumes_total{outcome=\"not_resumable\",route=\"r\",strategy=\"none\"} 1.0"), m);
    }

    @Test
    void aReplayThatTakesAnotherPathEndsWithTheOriginalErrorNeverAGarbledAnswer() throws Exception {
        start("replay", "reset", null);
        script((ctx, req) -> cutAfter40(ctx), (ctx, req) -> {
            TestUpstream.sseHead(ctx);
            TestUpstream.event(ctx, text("c2", answer(0, 10) + "something else entirely"));
            TestUpstream.event(ctx, chunk("c2", "{}", "stop"));
            TestUpstream.event(ctx, "data: [DONE]\n\n");
            ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
        });
        Read r = readStream();
        assertEquals(answer(0, CUT_AT), r.text(), "nothing of the diverging replay reached the agent");
        assertTrue(r.error() != null && r.error().getMessage().contains("closed the connection mid-response"), String.valueOf(r.error()));
        assertTrue(metrics().contains("egress_resumes_total{outcome=\"diverged\",route=\"r\",strategy=\"replay\"} 1.0"));
    }

    @Test
    void withResumeOffACutStreamEndsWithTheErrorEventAsBefore() throws Exception {
        start("prefill", "", null);
        script((ctx, req) -> cutAfter40(ctx), (ctx, req) -> stream(ctx, "c2", CUT_AT, TOKENS, 1, true));
        Read r = readStream();
        assertEquals(answer(0, CUT_AT), r.text());
        assertTrue(r.error() != null && r.error().getMessage().contains("closed the connection mid-response"), String.valueOf(r.error()));
        assertEquals(1, requests.get());
        assertFalse(metrics().contains("egress_resumes_total"));
    }

    @Test
    void anInBandErrorEventAfterTheFirstTokensIsResumedWhenTheRouteSaysInbandError() throws Exception {
        start("replay", "inband_error", null);
        script((ctx, req) -> {
            stream(ctx, "c1", 0, CUT_AT, 1, false);
            // The upstream gives up mid-answer with an error event in the same chunk as its last tokens.
            TestUpstream.event(ctx, text("c1", "") + "data: {\"error\":{\"message\":\"overloaded\",\"type\":\"server_error\"}}\n\n");
            TestUpstream.event(ctx, "data: [DONE]\n\n");
            ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
        }, (ctx, req) -> stream(ctx, "c2", 0, TOKENS, 5, true));
        Read r = readStream();
        assertEquals(null, r.error());
        assertEquals(answer(0, TOKENS), r.text());
        assertEquals(2, requests.get());
    }

    @Test
    void aContinuationThatBreaksAgainIsNotContinuedPastResumeMax() throws Exception {
        start("prefill", "reset", null);
        script((ctx, req) -> cutAfter40(ctx), (ctx, req) -> {
            stream(ctx, "c2", CUT_AT, 50, 1, false); // ten more tokens, then cut again
            ctx.executor().schedule(() -> ctx.channel().close(), 50, TimeUnit.MILLISECONDS);
        }, (ctx, req) -> stream(ctx, "c3", 50, TOKENS, 1, true));
        Read r = readStream();
        assertEquals(answer(0, 50), r.text(), "the first continuation's tokens reached the agent");
        assertTrue(r.error() != null && r.error().getMessage().contains("closed the connection mid-response"), String.valueOf(r.error()));
        assertEquals(2, requests.get(), "max: 1");
    }

    @Test
    void withMaxTwoASecondBreakIsContinuedFromWhereTheFirstContinuationGot() throws Exception {
        sidecar = Sidecar.start("upstreams:\n  up:\n    url: " + upstream.url() + "\n    resume_strategy: prefill\n"
                + "routes:\n  - { name: r, prefix: /v1, upstreams: [up], resume: { on: [reset], max: 2 } }\n");
        client = OpenAIOkHttpClient.builder().apiKey("dummy").baseUrl(sidecar.url() + "/v1")
                .timeout(Duration.ofSeconds(20)).maxRetries(0).build();
        script((ctx, req) -> cutAfter40(ctx), (ctx, req) -> {
            stream(ctx, "c2", CUT_AT, 50, 1, false);
            ctx.executor().schedule(() -> ctx.channel().close(), 50, TimeUnit.MILLISECONDS);
        }, (ctx, req) -> stream(ctx, "c3", 50, TOKENS, 1, true));
        Read r = readStream();
        assertEquals(null, r.error());
        assertEquals(answer(0, TOKENS), r.text());
        JsonNode third = JSON.readTree(bodies.get(2));
        assertEquals(answer(0, 50), third.path("messages").get(third.path("messages").size() - 1).path("content").asText());
    }
}
