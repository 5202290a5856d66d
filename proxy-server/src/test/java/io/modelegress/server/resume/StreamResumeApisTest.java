package io.modelegress.server.resume;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.StreamResponse;
import com.openai.models.responses.ResponseCreateParams;
import com.openai.models.responses.ResponseStreamEvent;
import io.modelegress.server.testing.Http;
import io.modelegress.server.testing.Sidecar;
import io.modelegress.server.testing.TestUpstream;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.LastHttpContent;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Mid-stream resume (issue 16) of Anthropic Messages and OpenAI Responses streams, on loopback. */
@Timeout(30)
class StreamResumeApisTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final TestUpstream upstream = new TestUpstream();
    private final AtomicInteger requests = new AtomicInteger();
    private final List<String> bodies = new CopyOnWriteArrayList<>();
    private Sidecar sidecar;

    StreamResumeApisTest() throws Exception {}

    private void start(String strategy) throws Exception {
        sidecar = Sidecar.start("upstreams:\n  up:\n    url: " + upstream.url() + "\n    resume_strategy: " + strategy + "\n"
                + "routes:\n  - { name: r, prefix: /v1, upstreams: [up], resume: { on: [reset] } }\n");
    }

    @AfterEach
    void tearDown() {
        if (sidecar != null) sidecar.close();
        upstream.close();
    }

    private void script(TestUpstream.Script... answers) {
        upstream.script((ctx, req) -> {
            bodies.add(req.content().toString(StandardCharsets.UTF_8));
            answers[Math.min(requests.getAndIncrement(), answers.length - 1)].answer(ctx, req);
        });
    }

    private static void cut(ChannelHandlerContext ctx) {
        ctx.executor().schedule(() -> ctx.channel().close(), 50, TimeUnit.MILLISECONDS);
    }

    static String ant(String type, String rest) {
        return "event: " + type + "\ndata: {\"type\":\"" + type + "\"" + rest + "}\n\n";
    }

    static String antText(String t) {
        return ant("content_block_delta", ",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"" + t + "\"}");
    }

    static void anthropic(ChannelHandlerContext ctx, String id, int from, int to, boolean finish) {
        TestUpstream.sseHead(ctx);
        TestUpstream.event(ctx, ant("message_start", ",\"message\":{\"id\":\"" + id + "\",\"type\":\"message\",\"role\":\"assistant\","
                + "\"model\":\"claude\",\"content\":[],\"usage\":{\"input_tokens\":10,\"output_tokens\":1}}"));
        TestUpstream.event(ctx, ant("content_block_start", ",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}"));
        for (int i = from; i < to; i++) TestUpstream.event(ctx, antText(StreamResumeTest.token(i)));
        if (!finish) return;
        TestUpstream.event(ctx, ant("content_block_stop", ",\"index\":0"));
        TestUpstream.event(ctx, ant("message_delta", ",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":" + (to - from) + "}"));
        TestUpstream.event(ctx, ant("message_stop", ""));
        ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
    }

    /** The text and the message ids of an Anthropic stream as the agent read it, and its end events. */
    private static String anthropicText(String body, List<String> types) throws Exception {
        StringBuilder text = new StringBuilder();
        for (String line : body.split("\n")) {
            if (!line.startsWith("data: ")) continue;
            JsonNode n = JSON.readTree(line.substring(6));
            types.add(n.path("type").asText());
            if (n.path("type").asText().equals("content_block_delta")) text.append(n.path("delta").path("text").asText());
        }
        return text.toString();
    }

    @Test
    void anAnthropicStreamCutMidAnswerIsContinuedByAssistantPrefill() throws Exception {
        start("prefill");
        script((ctx, req) -> {
            anthropic(ctx, "msg_1", 0, 40, false);
            cut(ctx);
        }, (ctx, req) -> anthropic(ctx, "msg_2", 40, 60, true));
        HttpResponse<String> r = Http.post(sidecar.url() + "/v1/messages",
                "{\"model\":\"claude\",\"max_tokens\":100,\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"count\"}]}");
        assertEquals(200, r.statusCode());
        List<String> types = new java.util.ArrayList<>();
        assertEquals(StreamResumeTest.answer(0, 60), anthropicText(r.body(), types));
        assertEquals(1, types.stream().filter("message_start"::equals).count(), "one preamble: " + types);
        assertEquals(1, types.stream().filter("message_stop"::equals).count(), types.toString());
        assertTrue(r.body().contains(": model-egress resumed the stream here (strategy=prefill, attempt=2)"), r.body());
        assertTrue(r.body().contains("\"output_tokens\":21"), "usage adds the original's: " + r.body());
        JsonNode cont = JSON.readTree(bodies.get(1));
        JsonNode last = cont.path("messages").get(1);
        assertEquals("assistant", last.path("role").asText());
        assertEquals(StreamResumeTest.answer(0, 40).strip(), last.path("content").asText(), "trailing whitespace held back");
    }

    static String resp(String type, int seq, String rest) {
        return "event: " + type + "\ndata: {\"type\":\"" + type + "\",\"sequence_number\":" + seq + rest + "}\n\n";
    }

    static void responses(ChannelHandlerContext ctx, String id, int to, int per, boolean finish) {
        TestUpstream.sseHead(ctx);
        int seq = 0;
        TestUpstream.event(ctx, resp("response.created", seq++, ",\"response\":{\"id\":\"" + id + "\",\"object\":\"response\","
                + "\"created_at\":1,\"model\":\"m\",\"output\":[],\"status\":\"in_progress\"}"));
        TestUpstream.event(ctx, resp("response.output_item.added", seq++, ",\"output_index\":0,\"item\":{\"type\":\"message\","
                + "\"id\":\"msg_" + id + "\",\"role\":\"assistant\",\"status\":\"in_progress\",\"content\":[]}"));
        for (int i = 0; i < to; i += per) {
            TestUpstream.event(ctx, resp("response.output_text.delta", seq++, ",\"item_id\":\"msg_" + id + "\",\"output_index\":0,"
                    + "\"content_index\":0,\"delta\":\"" + StreamResumeTest.answer(i, Math.min(to, i + per)) + "\",\"logprobs\":[]"));
        }
        if (!finish) return;
        TestUpstream.event(ctx, resp("response.completed", seq, ",\"response\":{\"id\":\"" + id + "\",\"object\":\"response\","
                + "\"created_at\":1,\"model\":\"m\",\"output\":[],\"status\":\"completed\"}"));
        ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
    }

    @Test
    void aResponsesStreamCutMidAnswerIsContinuedByReplayForTheSdk() throws Exception {
        start("prefill"); // the Responses API has no prefill: a replay is sent instead
        script((ctx, req) -> {
            responses(ctx, "resp_1", 40, 1, false);
            cut(ctx);
        }, (ctx, req) -> responses(ctx, "resp_2", 60, 4, true));
        OpenAIClient client = OpenAIOkHttpClient.builder().apiKey("dummy").baseUrl(sidecar.url() + "/v1")
                .timeout(Duration.ofSeconds(20)).maxRetries(0).build();
        StringBuilder text = new StringBuilder();
        List<String> ids = new java.util.ArrayList<>();
        List<Long> seqs = new java.util.ArrayList<>();
        boolean completed = false;
        try (StreamResponse<ResponseStreamEvent> s = client.responses().createStreaming(
                ResponseCreateParams.builder().model("m").input("count").build())) {
            for (ResponseStreamEvent e : (Iterable<ResponseStreamEvent>) s.stream()::iterator) {
                if (e.isOutputTextDelta()) {
                    text.append(e.asOutputTextDelta().delta());
                    ids.add(e.asOutputTextDelta().itemId());
                    seqs.add(e.asOutputTextDelta().sequenceNumber());
                }
                if (e.isCompleted()) {
                    completed = true;
                    assertEquals("resp_1", e.asCompleted().response().id());
                }
            }
        } finally {
            client.close();
        }
        assertEquals(StreamResumeTest.answer(0, 60), text.toString());
        assertTrue(completed);
        assertTrue(ids.stream().allMatch("msg_resp_1"::equals), ids.toString());
        for (int i = 1; i < seqs.size(); i++) assertTrue(seqs.get(i) > seqs.get(i - 1), "sequence numbers rise: " + seqs);
        assertEquals(2, requests.get());
        assertEquals(bodies.get(0), bodies.get(1));
    }
}
