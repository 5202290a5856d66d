package io.modelegress.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.modelegress.server.testing.Http;
import io.modelegress.server.testing.RawHttp;
import io.modelegress.server.testing.Sidecar;
import io.modelegress.server.testing.TestConfig;
import io.modelegress.server.testing.TestUpstream;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.net.http.HttpResponse;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ForwardingTest {
    private final TestUpstream openai = new TestUpstream();
    private final TestUpstream anthropic = new TestUpstream();
    private final TestUpstream vllm = new TestUpstream();
    private final Sidecar sidecar = TestConfig.config()
            .upstream("openai", openai.url(), u -> u.auth("Authorization", "Bearer ${OPENAI_API_KEY}"))
            .upstream("anthropic", anthropic.url(), u -> u.auth("x-api-key", "${ANTHROPIC_API_KEY}"))
            .upstream("vllm", vllm.url() + "/serving")
            .route("local", "/v1", r -> r.models("llama-*", "qwen?").upstreams("vllm"))
            .route("openai", "/v1", "openai")
            .route("anthropic", "/anthropic", r -> r.stripPrefix().upstreams("anthropic").dialect("anthropic"))
            .start(Map.of("OPENAI_API_KEY", "sk-real", "ANTHROPIC_API_KEY", "ant-real"));

    ForwardingTest() throws Exception {}

    @AfterEach
    void tearDown() {
        sidecar.close();
        openai.close();
        anthropic.close();
        vllm.close();
    }

    @Test
    void injectsTheCredentialAndDropsTheAgentsKeyAndHopByHopHeaders() throws Exception {
        try (RawHttp raw = new RawHttp(sidecar.port())) {
            raw.send("POST /v1/chat/completions?x=1 HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer dummy\r\n"
                    + "Connection: keep-alive, X-Secret-Hop\r\nX-Secret-Hop: 1\r\nKeep-Alive: timeout=5\r\nTE: trailers\r\n"
                    + "Proxy-Authorization: Basic Zm9vOmJhcg==\r\nUpgrade: h2c\r\nX-Custom: kept\r\n"
                    + "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}");
            RawHttp.Response resp = raw.read();
            assertEquals(200, resp.status());
            assertEquals("1", resp.header("x-egress-attempts"));
            assertNull(resp.header("x-egress-error"));
        }
        TestUpstream.Received r = openai.take();
        assertEquals("/v1/chat/completions?x=1", r.uri());
        assertEquals("Bearer sk-real", r.header("authorization"));
        assertEquals("127.0.0.1:" + openai.port(), r.header("host"));
        assertEquals("kept", r.header("x-custom"));
        for (String hop : new String[] {"x-secret-hop", "keep-alive", "te", "proxy-authorization", "upgrade"}) {
            assertNull(r.header(hop), hop + " must not reach the upstream");
        }
        assertNotNull(r.header("x-request-id"));
    }

    @Test
    void anAgentThatAsksToCloseGetsItsAnswerAndThenEndOfStream() throws Exception {
        // Connection: close (HTTP/1.1) and HTTP/1.0 without keep-alive: the answer says "Connection: close" and the
        // sidecar closes after it, so a client that reads to end-of-stream is not left waiting.
        openai.script(TestUpstream.json(200, "{\"ok\":true}"));
        for (String request : new String[] {
                "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}",
                "POST /v1/chat/completions HTTP/1.0\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}"}) {
            try (RawHttp raw = new RawHttp(sidecar.port())) {
                RawHttp.Response resp = raw.send(request).read();
                assertEquals(200, resp.status(), request);
                assertEquals("{\"ok\":true}", resp.body());
                assertEquals("close", resp.header("connection"));
                assertTrue(raw.closedByPeer(), "the sidecar closes after the answer: " + request);
            }
        }
    }

    @Test
    void aRequestPipelinedBehindConnectionCloseIsNeverSentUpstream() throws Exception {
        openai.script(TestUpstream.json(200, "{\"ok\":true}"));
        try (RawHttp raw = new RawHttp(sidecar.port())) {
            raw.send("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}"
                    + "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}");
            assertEquals(200, raw.read().status());
            assertTrue(raw.closedByPeer(), "the connection closes after the answer that said close");
        }
        openai.take();
        assertEquals(0, openai.receivedCount(), "the pipelined second request reached the upstream");
    }

    @Test
    void anthropicRouteStripsItsPrefixAndReplacesTheKeyHeader() throws Exception {
        HttpResponse<String> resp = Http.post(sidecar.url() + "/anthropic/v1/messages", "{}", "x-api-key", "dummy",
                "authorization", "Bearer dummy");
        assertEquals(200, resp.statusCode());
        TestUpstream.Received r = anthropic.take();
        assertEquals("/v1/messages", r.uri());
        assertEquals("ant-real", r.header("x-api-key"));
        assertNull(r.header("authorization"));
    }

    @Test
    void modelGlobsRouteOneBaseUrlToSeveralUpstreams() throws Exception {
        assertEquals(200, Http.post(sidecar.url() + "/v1/chat/completions", "{\"model\":\"llama-3-70b\"}").statusCode());
        TestUpstream.Received local = vllm.take();
        assertEquals("/serving/v1/chat/completions", local.uri());
        assertNull(local.header("authorization"), "vllm has no credential configured");
        assertEquals(200, Http.post(sidecar.url() + "/v1/chat/completions", "{\"model\":\"gpt-4o\"}").statusCode());
        assertEquals("Bearer sk-real", openai.take().header("authorization"));
        assertEquals(0, vllm.receivedCount());
    }

    @Test
    void requestIdIsTakenFromTheAgentAndEchoed() throws Exception {
        HttpResponse<String> resp = Http.post(sidecar.url() + "/v1/x", "{}", "x-request-id", "agent-123");
        assertEquals("agent-123", resp.headers().firstValue("x-request-id").orElseThrow());
        assertEquals("agent-123", openai.take().header("x-request-id"));
        HttpResponse<String> generated = Http.post(sidecar.url() + "/v1/x", "{}");
        String id = generated.headers().firstValue("x-request-id").orElseThrow();
        assertEquals(id, openai.take().header("x-request-id"));
    }

    @Test
    void upstreamErrorsAndGzipBodiesPassThroughByteForByte() throws Exception {
        byte[] gz = {0x1f, (byte) 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3, 4, 5};
        openai.script((ctx, req) -> {
            var r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.BAD_REQUEST, Unpooled.wrappedBuffer(gz));
            r.headers().set("content-encoding", "gzip").set("content-type", "application/json")
                    .setInt("content-length", gz.length).set("retry-after", "7");
            ctx.writeAndFlush(r);
        });
        try (RawHttp raw = new RawHttp(sidecar.port())) {
            raw.send("GET /v1/models HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n");
            RawHttp.Response resp = raw.read();
            assertEquals(400, resp.status());
            assertEquals("1", resp.header("x-egress-attempts"));
            assertEquals("gzip", resp.header("content-encoding"));
            assertEquals("7", resp.header("retry-after"));
            assertNull(resp.header("x-egress-error"), "the upstream's own error is not ours");
            assertEquals(new String(gz, java.nio.charset.StandardCharsets.UTF_8), resp.body());
        }
        assertEquals("gzip", openai.take().header("accept-encoding"));
    }

    @Test
    void keepAliveReusesOneUpstreamConnection() throws Exception {
        for (int i = 0; i < 20; i++) assertEquals(200, Http.get(sidecar.url() + "/v1/models").statusCode());
        assertEquals(1, openai.accepted());
    }

    @Test
    void aPooledConnectionClosedByTheUpstreamIsReplacedWithoutFailingTheRequest() throws Exception {
        assertEquals(200, Http.get(sidecar.url() + "/v1/models").statusCode());
        openai.take();
        // The upstream closes its idle keep-alive connection, as servers do after their own idle timeout.
        openai.script(TestUpstream.json(200, "{}"));
        closeUpstreamConnections();
        for (int i = 0; i < 3; i++) assertEquals(200, Http.get(sidecar.url() + "/v1/models").statusCode());
        assertTrue(openai.accepted() >= 2);
    }

    private void closeUpstreamConnections() {
        openai.closeConnections();
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(5))
                .until(() -> sidecar.server.runtime().pool().counts("openai").idle.intValue() == 0);
    }

    @Test
    void sidecarAnswersAreMarkedAndUpstreamAnswersAreNot() throws Exception {
        HttpResponse<String> ok = Http.get(sidecar.url() + "/v1/models");
        assertFalse(ok.headers().firstValue("x-egress-error").isPresent());
    }
}
