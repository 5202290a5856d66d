package io.modelegress.server.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.openai.client.OpenAIClient;
import com.openai.core.http.StreamResponse;
import com.openai.errors.OpenAIServiceException;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.responses.ResponseCreateParams;
import com.openai.models.responses.ResponseStreamEvent;
import io.modelegress.server.testing.Http;
import io.modelegress.server.testing.Sdk;
import io.modelegress.server.testing.Sidecar;
import io.modelegress.server.testing.TestConfig;
import io.modelegress.server.testing.TestUpstream;
import io.netty.handler.codec.http.LastHttpContent;
import java.net.http.HttpResponse;
import java.util.Iterator;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * How a model stream ends. An upstream that ends its body cleanly before the answer is finished has still cut the
 * answer: the agent's SDK must raise, not return truncated text as a finished answer. One that finished but forgot
 * its end marker is complete and gets the marker. Error events take the shape of the stream they end.
 */
@Timeout(60)
class StreamEndTest {
    private final TestUpstream upstream = new TestUpstream();
    private final Sidecar sidecar = FaultSuiteTest.limits().upstream("up", upstream.url())
            .route("r", "/v1", "up")
            .route("a", "/anthropic", r -> r.upstreams("up").dialect("anthropic"))
            .start();
    private final OpenAIClient client = Sdk.client(sidecar);

    StreamEndTest() throws Exception {}

    @AfterEach
    void tearDown() {
        client.close();
        sidecar.close();
        upstream.close();
    }

    private static String chunk(String delta, String finish) {
        return "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\","
                + "\"choices\":[{\"index\":0,\"delta\":" + delta + ",\"finish_reason\":" + finish + "}]}\n\n";
    }

    /** Writes {@code events} as an SSE body and ends it cleanly (chunked terminator, connection kept alive). */
    private void streamThenEnd(String... events) {
        upstream.script((ctx, req) -> {
            TestUpstream.sseHead(ctx);
            for (String e : events) TestUpstream.event(ctx, e);
            ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
        });
    }

    private static ChatCompletionCreateParams chat() {
        return ChatCompletionCreateParams.builder().model("m").addUserMessage("hi").build();
    }

    @Test
    void aChatStreamEndedCleanlyWithoutAFinishReasonMakesTheSdkRaise() {
        streamThenEnd(chunk("{\"role\":\"assistant\"}", "null"), chunk("{\"content\":\"Hel\"}", "null"),
                chunk("{\"content\":\"lo\"}", "null"));
        try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions().createStreaming(chat())) {
            Iterator<ChatCompletionChunk> it = stream.stream().iterator();
            it.next();
            OpenAIServiceException e = assertThrows(OpenAIServiceException.class, () -> {
                while (it.hasNext()) it.next();
            });
            assertTrue(e.toString().contains("upstream_reset") || String.valueOf(e.code().orElse(null)).equals("upstream_reset"), e.toString());
        }
    }

    @Test
    void aChatStreamThatFinishedWithoutDoneIsCompleteAndGetsDone() throws Exception {
        streamThenEnd(chunk("{\"role\":\"assistant\"}", "null"), chunk("{\"content\":\"Hello\"}", "null"),
                chunk("{}", "\"stop\""));
        HttpResponse<String> r = Http.post(sidecar.url() + "/v1/chat/completions", "{\"stream\":true}");
        assertEquals(200, r.statusCode());
        assertTrue(r.body().endsWith("\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n"), r.body());
        StringBuilder text = new StringBuilder();
        try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions().createStreaming(chat())) {
            stream.stream().forEach(c -> c.choices().forEach(ch -> ch.delta().content().ifPresent(text::append)));
        }
        assertEquals("Hello", text.toString());
    }

    @Test
    void aCutBeforeTheFirstDataEventIsATypedErrorNotAnEmptySuccess() throws Exception {
        // Everything arrives in one read: the stream is still held (uncommitted) when its clean end shows it is cut.
        upstream.script((ctx, req) -> TestUpstream.raw(ctx, "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
                + "content-length: " + chunk("{\"role\":\"assistant\"}", "null").length() + "\r\n\r\n"
                + chunk("{\"role\":\"assistant\"}", "null")));
        HttpResponse<String> r = Http.post(sidecar.url() + "/v1/chat/completions", "{\"stream\":true}");
        assertEquals(502, r.statusCode(), r.body());
        assertEquals("upstream_reset", r.headers().firstValue("x-egress-error").orElse(null));
        assertTrue(r.body().contains("before the answer was finished"), r.body());
    }

    @Test
    void anAnthropicStreamWithoutAStopReasonEndsWithAnErrorEvent() throws Exception {
        streamThenEnd("event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m1\",\"role\":\"assistant\"}}\n\n",
                "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hi\"}}\n\n");
        HttpResponse<String> r = Http.post(sidecar.url() + "/anthropic/v1/messages", "{\"stream\":true}");
        assertEquals(200, r.statusCode());
        assertTrue(r.body().contains("event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"api_error\""), r.body());
        assertTrue(r.body().contains("before the answer was finished"), r.body());
        assertFalse(r.body().contains("message_stop"), r.body());
    }

    @Test
    void anAnthropicStreamWithAStopReasonButNoMessageStopGetsIt() throws Exception {
        streamThenEnd("event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m1\",\"role\":\"assistant\"}}\n\n",
                "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hi\"}}\n\n",
                "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":1}}\n\n");
        HttpResponse<String> r = Http.post(sidecar.url() + "/anthropic/v1/messages", "{\"stream\":true}");
        assertEquals(200, r.statusCode());
        assertTrue(r.body().endsWith("\"output_tokens\":1}}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"), r.body());
    }

    @Test
    void aToolServersOwnStreamIsNotJudged() throws Exception {
        streamThenEnd("event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}\n\n");
        HttpResponse<String> r = Http.post(sidecar.url() + "/v1/mcp", "{}");
        assertEquals(200, r.statusCode());
        assertEquals("event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}\n\n", r.body());
    }

    @Test
    void aStreamingRequestAsksTheUpstreamForIdentity() throws Exception {
        streamThenEnd(chunk("{\"content\":\"Hi\"}", "\"stop\""));
        HttpResponse<String> r = Http.post(sidecar.url() + "/v1/chat/completions",
                "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"say \\\"stream\\\": true\"}],\"stream\" : true}",
                "accept-encoding", "gzip, br");
        assertEquals(200, r.statusCode());
        assertEquals("identity", upstream.take().header("accept-encoding"));
        upstream.script(TestUpstream.json(200, "{}"));
        Http.post(sidecar.url() + "/v1/chat/completions", "{\"messages\":[{\"content\":\"\\\"stream\\\": true\"}],\"stream\":false}",
                "accept-encoding", "gzip");
        assertEquals("gzip", upstream.take().header("accept-encoding"), "a non-streaming answer keeps its compression");
    }

    @Test
    void aCompressedStreamIsRelayedAsItComesNotHeld() throws Exception {
        java.io.ByteArrayOutputStream gz = new java.io.ByteArrayOutputStream();
        try (java.util.zip.GZIPOutputStream z = new java.util.zip.GZIPOutputStream(gz, true)) {
            z.write(chunk("{\"content\":\"Hel\"}", "null").getBytes(java.nio.charset.StandardCharsets.UTF_8));
            z.flush();
            byte[] first = gz.toByteArray();
            upstream.script((ctx, req) -> {
                io.netty.handler.codec.http.HttpResponse head = new io.netty.handler.codec.http.DefaultHttpResponse(
                        io.netty.handler.codec.http.HttpVersion.HTTP_1_1, io.netty.handler.codec.http.HttpResponseStatus.OK);
                head.headers().set("content-type", "text/event-stream").set("content-encoding", "gzip")
                        .set("transfer-encoding", "chunked");
                ctx.write(head);
                // The first tokens, then the upstream stalls (it never finishes the gzip stream).
                ctx.writeAndFlush(new io.netty.handler.codec.http.DefaultHttpContent(io.netty.buffer.Unpooled.wrappedBuffer(first)));
            });
            try (io.modelegress.server.testing.RawHttp agent = new io.modelegress.server.testing.RawHttp(sidecar.port())) {
                String got = agent.send("POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\n\r\n{}")
                        .readUntil("\u0000never");
                assertTrue(got.startsWith("HTTP/1.1 200"), "committed at its head, not held for a first event: " + got);
                assertTrue(got.toLowerCase().contains("content-encoding: gzip"), got);
                assertTrue(got.length() > got.indexOf("\r\n\r\n") + 4 + 10, "the compressed tokens reached the agent: " + got);
            }
        }
    }

    @Test
    void aFloodOfCommentsBeforeTheFirstTokenIsCommittedPastTheBoundNotHeld() throws Exception {
        java.util.concurrent.CompletableFuture<io.netty.channel.ChannelHandlerContext> open = new java.util.concurrent.CompletableFuture<>();
        String comment = ": " + "k".repeat(1000) + "\n\n";
        try (TestUpstream flood = new TestUpstream();
             Sidecar s = TestConfig.config().server("max_uncommitted_bytes", "64KiB").timeout("stream_idle", "10s")
                     .upstream("up", flood.url()).route("r", "/v1", "up").start()) {
            flood.script((ctx, req) -> {
                TestUpstream.sseHead(ctx);
                for (int i = 0; i < 512; i++) TestUpstream.event(ctx, comment); // 512 KB of comments, no data yet
                open.complete(ctx);
            });
            try (io.modelegress.server.testing.RawHttp agent = new io.modelegress.server.testing.RawHttp(s.port())) {
                agent.send("POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\n\r\n{}");
                // The head arrives while the upstream has still sent no data event: the sidecar is not holding it all.
                String head = agent.readUntil(": kkkk");
                assertTrue(head.startsWith("HTTP/1.1 200"), head.substring(0, Math.min(200, head.length())));
                io.netty.channel.ChannelHandlerContext ctx = open.get(10, java.util.concurrent.TimeUnit.SECONDS);
                TestUpstream.event(ctx, chunk("{\"content\":\"Hi\"}", "\"stop\"") + "data: [DONE]\n\n");
                ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
                String rest = agent.readUntil("data: [DONE]");
                assertTrue(rest.contains("\"content\":\"Hi\""), rest.substring(Math.max(0, rest.length() - 300)));
            }
        }
    }

    private static final List<String> RESPONSES_EVENTS = List.of(
            "event: response.created\ndata: {\"type\":\"response.created\",\"sequence_number\":0,\"response\":{\"id\":\"resp_1\",\"object\":\"response\",\"created_at\":1,\"model\":\"m\",\"output\":[],\"status\":\"in_progress\"}}\n\n",
            "event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"sequence_number\":1,\"item_id\":\"msg_1\",\"output_index\":0,\"content_index\":0,\"delta\":\"Hel\",\"logprobs\":[]}\n\n");

    @Test
    void aResponsesStreamThatStallsGetsAResponsesErrorEventTheSdkRaisesWithOurCode() throws Exception {
        upstream.script((ctx, req) -> {
            TestUpstream.sseHead(ctx);
            RESPONSES_EVENTS.forEach(e -> TestUpstream.event(ctx, e));
        });
        HttpResponse<String> r = Http.post(sidecar.url() + "/v1/responses", "{\"stream\":true}");
        assertEquals(200, r.statusCode());
        String tail = r.body().substring(r.body().indexOf("\"delta\":\"Hel\""));
        assertTrue(tail.contains("event: error\ndata: {\"type\":\"error\",\"sequence_number\":2,\"code\":\"stream_idle_timeout\","), tail);
        assertTrue(tail.contains("\"error\":{\"type\":\"egress_error\",\"code\":\"stream_idle_timeout\""), tail);
        assertFalse(tail.contains("data: {\"error\":{\"message\""), "not the Chat Completions shape: " + tail);

        ResponseCreateParams params = ResponseCreateParams.builder().model("m").input("hi").build();
        try (StreamResponse<ResponseStreamEvent> stream = client.responses().createStreaming(params)) {
            Iterator<ResponseStreamEvent> it = stream.stream().iterator();
            assertTrue(it.next().isCreated());
            OpenAIServiceException e = assertThrows(OpenAIServiceException.class, () -> {
                while (it.hasNext()) it.next();
            });
            assertEquals("stream_idle_timeout", e.code().orElse(null), e.toString());
        }
    }

    @Test
    void aResponsesStreamCutAfterItsTerminalEventIsComplete() throws Exception {
        streamThenEnd(RESPONSES_EVENTS.get(0), RESPONSES_EVENTS.get(1),
                "event: response.completed\ndata: {\"type\":\"response.completed\",\"sequence_number\":2,\"response\":{\"id\":\"resp_1\"}}\n\n");
        HttpResponse<String> r = Http.post(sidecar.url() + "/v1/responses", "{\"stream\":true}");
        assertEquals(200, r.statusCode());
        assertTrue(r.body().endsWith("\"response\":{\"id\":\"resp_1\"}}\n\n"), "passed as it came, nothing added: " + r.body());
    }
}
