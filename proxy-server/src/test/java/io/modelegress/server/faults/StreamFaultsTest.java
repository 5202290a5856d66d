package io.modelegress.server.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.openai.client.OpenAIClient;
import com.openai.core.http.StreamResponse;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import io.modelegress.server.testing.Http;
import io.modelegress.server.testing.RawHttp;
import io.modelegress.server.testing.Sdk;
import io.modelegress.server.testing.Sidecar;
import io.modelegress.server.testing.TestUpstream;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Iterator;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Faults once the upstream has answered: the agent gets an error, never a hang, never a truncated answer that looks complete. */
class StreamFaultsTest {
    private final TestUpstream upstream = new TestUpstream();
    private final Sidecar sidecar = FaultSuiteTest.sidecar(FaultSuiteTest.limits().timeout("first_token", "400ms"), upstream.url(), u -> { });
    private final OpenAIClient client = Sdk.client(sidecar);

    StreamFaultsTest() throws Exception {}

    @AfterEach
    void tearDown() {
        client.close();
        sidecar.close();
        upstream.close();
    }

    private static String chunk(String text) {
        return "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\","
                + "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"" + text + "\"},\"finish_reason\":null}]}\n\n";
    }

    private static void every(ChannelHandlerContext ctx, long ms, Runnable r) {
        ctx.executor().scheduleAtFixedRate(() -> {
            if (ctx.channel().isActive()) r.run();
        }, 0, ms, TimeUnit.MILLISECONDS);
    }

    private static ChatCompletionCreateParams params() {
        return ChatCompletionCreateParams.builder().model("m").addUserMessage("hi").build();
    }

    @Test
    void headersThenOnlyPingsFailsAtFirstTokenBeforeAnythingIsSent() throws Exception {
        upstream.script((ctx, req) -> {
            TestUpstream.sseHead(ctx);
            every(ctx, 100, () -> TestUpstream.event(ctx, ": keep-alive\n\nevent: ping\ndata: {}\n\n"));
        });
        FaultSuiteTest.Timed t = FaultSuiteTest.timed(() -> Http.post(sidecar.url() + "/v1/chat/completions", "{\"stream\":true}"));
        FaultSuiteTest.assertError(t, 504, "first_token_timeout", Duration.ofMillis(400), "sent headers but no data within 400ms (timeouts.first_token)");
        assertTrue(t.elapsed().toMillis() >= 350, "pings must not count as progress: " + t.elapsed());
    }

    @Test
    void streamThatStallsMidwayEndsTheSdkIteratorWithAnError() throws Exception {
        upstream.script((ctx, req) -> {
            TestUpstream.sseHead(ctx);
            TestUpstream.event(ctx, chunk("Hel"));
        });
        long t0 = System.nanoTime();
        try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions().createStreaming(params())) {
            Iterator<ChatCompletionChunk> it = stream.stream().iterator();
            assertEquals("Hel", it.next().choices().get(0).delta().content().orElseThrow());
            RuntimeException e = assertThrows(RuntimeException.class, () -> {
                while (it.hasNext()) it.next();
            });
            assertTrue(String.valueOf(e.getMessage()).contains("stream_idle_timeout") || e.toString().contains("stream_idle"), e.toString());
        }
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(ms < 500 + FaultSuiteTest.MARGIN.toMillis(), "took " + ms + "ms");
    }

    @Test
    void streamCutWithoutDoneGivesAnErrorEventNotATruncatedAnswer() throws Exception {
        upstream.script((ctx, req) -> {
            TestUpstream.sseHead(ctx);
            TestUpstream.event(ctx, chunk("partial"));
            ctx.executor().schedule(() -> ctx.channel().close(), 50, TimeUnit.MILLISECONDS);
        });
        String body = readAll("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}");
        assertTrue(body.contains("partial"), body);
        assertTrue(body.contains("data: {\"error\":{\"message\":\"upstream \\\"up\\\" closed the connection mid-response"), body);
        assertTrue(body.contains("\"code\":\"upstream_reset\""), body);
        assertFalse(body.contains("[DONE]"));
        assertTrue(body.endsWith("0\r\n\r\n"), "the stream is ended (chunked terminator) so the client's iterator stops: " + body);
        // The SDK sees an error, not a clean end.
        try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions().createStreaming(params())) {
            Iterator<ChatCompletionChunk> it = stream.stream().iterator();
            it.next();
            assertThrows(RuntimeException.class, () -> {
                while (it.hasNext()) it.next();
            });
        }
    }

    @Test
    void aStreamEndedByAnErrorClosesTheConnectionWhenTheAgentAskedToClose() throws Exception {
        upstream.script((ctx, req) -> {
            TestUpstream.sseHead(ctx);
            TestUpstream.event(ctx, chunk("partial"));
            ctx.executor().schedule(() -> ctx.channel().close(), 50, TimeUnit.MILLISECONDS);
        });
        try (RawHttp raw = new RawHttp(sidecar.port())) {
            String body = raw.send("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                    + "Content-Length: 2\r\n\r\n{}").readUntil("0\r\n\r\n");
            assertTrue(body.contains("\"code\":\"upstream_reset\""), body);
            assertTrue(raw.closedByPeer(), "after the error event and the chunked terminator the sidecar closes");
        }
    }

    @Test
    void plainBodyCutMidwayClosesTheAgentConnection() throws Exception {
        upstream.script((ctx, req) -> {
            DefaultHttpResponse r = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
            r.headers().set("content-type", "application/json").setInt("content-length", 1000);
            ctx.write(r);
            ctx.writeAndFlush(new io.netty.handler.codec.http.DefaultHttpContent(Unpooled.copiedBuffer("{\"partial\":", StandardCharsets.UTF_8)));
            ctx.executor().schedule(() -> ctx.channel().close(), 50, TimeUnit.MILLISECONDS);
        });
        String raw = readAll("GET /v1/models HTTP/1.1\r\nHost: x\r\n\r\n");
        assertTrue(raw.startsWith("HTTP/1.1 200"), raw);
        assertTrue(raw.endsWith("{\"partial\":"), "truncated, and the connection closed at once: " + raw);
        String metrics = Http.get(sidecar.adminUrl() + "/metrics").body();
        assertTrue(metrics.contains("egress_errors_total{code=\"upstream_reset\",route=\"r\"} 1.0"), metrics);
    }

    @Test
    void agentDisconnectMidStreamClosesTheUpstreamConnection() throws Exception {
        upstream.script((ctx, req) -> {
            TestUpstream.sseHead(ctx);
            every(ctx, 50, () -> TestUpstream.event(ctx, chunk("tick")));
        });
        try (RawHttp raw = new RawHttp(sidecar.port())) {
            raw.send("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}");
            assertTrue(raw.readUntil("tick").contains("tick"));
        }
        Awaitility.await().atMost(Duration.ofSeconds(5)).until(upstream::allConnectionsClosed);
        Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> Http.get(sidecar.adminUrl() + "/metrics").body()
                .contains("egress_downstream_cancelled_total{route=\"r\"} 1.0"));
    }

    private String readAll(String request) throws Exception {
        try (java.net.Socket s = new java.net.Socket("127.0.0.1", sidecar.port())) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
            InputStream in = s.getInputStream();
            java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
            byte[] buf = new byte[4096];
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            int n;
            while (System.nanoTime() < deadline && (n = in.read(buf)) != -1) {
                out.write(buf, 0, n);
                if (out.toString(StandardCharsets.UTF_8).endsWith("0\r\n\r\n")) break;
            }
            return out.toString(StandardCharsets.UTF_8);
        }
    }
}
