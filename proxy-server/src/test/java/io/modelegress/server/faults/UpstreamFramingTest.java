package io.modelegress.server.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.modelegress.server.testing.Http;
import io.modelegress.server.testing.RawHttp;
import io.modelegress.server.testing.Sidecar;
import io.modelegress.server.testing.TestUpstream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * What an upstream may put on the wire that is not one plain response: interim 1xx answers, headers that would pass
 * for the sidecar's own, its own request id, and framing the decoder cannot follow. None may mix responses up,
 * hang the agent, or close its connection with nothing said.
 */
@Timeout(30)
class UpstreamFramingTest {
    private static final Pattern N = Pattern.compile("\"n\":(\\d+)");
    private final TestUpstream upstream = new TestUpstream();
    private final Sidecar sidecar = FaultSuiteTest.sidecar(upstream.url());

    UpstreamFramingTest() throws Exception {}

    @AfterEach
    void tearDown() {
        sidecar.close();
        upstream.close();
    }

    /** Answers {"n": N} for a request body {"n": N}, preceded on the wire by {@code interim}. */
    private void answerAfter(String interim) {
        upstream.script((ctx, req) -> {
            Matcher m = N.matcher(req.content().toString(StandardCharsets.UTF_8));
            String body = "{\"n\":" + (m.find() ? m.group(1) : "-1") + "}";
            TestUpstream.raw(ctx, interim + "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: "
                    + body.length() + "\r\n\r\n" + body);
        });
    }

    private static String post(int n) {
        String body = "{\"n\":" + n + "}";
        return "POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: "
                + body.length() + "\r\n\r\n" + body;
    }

    @Test
    void aContinueBeforeTheAnswerIsConsumedAndEveryAgentGetsItsOwnAnswer() throws Exception {
        answerAfter("HTTP/1.1 100 Continue\r\n\r\n");
        for (int n = 1; n <= 6; n++) {
            // A fresh agent connection each time: a response left on a pooled upstream connection would reach the next.
            try (RawHttp agent = new RawHttp(sidecar.port())) {
                RawHttp.Response r = agent.send(post(n)).read();
                assertEquals(200, r.status(), r.body());
                assertEquals("{\"n\":" + n + "}", r.body());
            }
        }
        assertTrue(upstream.accepted() < 6, "connections stay pooled and in step: " + upstream.accepted());
    }

    @Test
    void earlyHintsAndProcessingAreConsumedToo() throws Exception {
        answerAfter("HTTP/1.1 103 Early Hints\r\nlink: </style.css>; rel=preload\r\n\r\nHTTP/1.1 102 Processing\r\n\r\n");
        try (RawHttp agent = new RawHttp(sidecar.port())) {
            for (int n = 1; n <= 3; n++) {
                RawHttp.Response r = agent.send(post(n)).read();
                assertEquals(200, r.status(), r.body());
                assertEquals("{\"n\":" + n + "}", r.body());
            }
        }
    }

    @Test
    void anUnsolicitedSwitchingProtocolsIsAProtocolErrorNotAHang() throws Exception {
        upstream.script((ctx, req) -> TestUpstream.raw(ctx, "HTTP/1.1 101 Switching Protocols\r\nupgrade: h2c\r\n"
                + "connection: upgrade\r\n\r\n\u0000\u0000\u0012\u0004"));
        HttpResponse<String> r = Http.post(sidecar.url() + "/v1/chat/completions", "{}");
        assertEquals(502, r.statusCode(), r.body());
        assertEquals("upstream_protocol_error", r.headers().firstValue("x-egress-error").orElse(null));
        assertTrue(r.body().contains("101 Switching Protocols"), r.body());
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(5)).until(upstream::allConnectionsClosed);
    }

    @Test
    void anUpstreamCannotSpeakAsTheSidecar() throws Exception {
        upstream.script((ctx, req) -> TestUpstream.raw(ctx, "HTTP/1.1 500 Internal Server Error\r\n"
                + "x-egress-error: route_not_found\r\nX-Egress-Attempts: 99\r\nx-egress-anything: 1\r\n"
                + "content-type: application/json\r\ncontent-length: 2\r\n\r\n{}"));
        HttpResponse<String> r = Http.post(sidecar.url() + "/v1/chat/completions", "{}");
        assertEquals(500, r.statusCode());
        assertEquals("{}", r.body(), "the upstream's answer passes through");
        assertFalse(r.headers().firstValue("x-egress-error").isPresent(), "a spoofed x-egress-error reached the agent");
        assertFalse(r.headers().firstValue("x-egress-anything").isPresent());
        assertEquals("1", r.headers().firstValue("x-egress-attempts").orElse(null), "ours, not the upstream's");
    }

    @Test
    void theUpstreamsRequestIdIsKeptAndOursGoesBesideIt() throws Exception {
        upstream.script((ctx, req) -> TestUpstream.raw(ctx, "HTTP/1.1 200 OK\r\nx-request-id: req_upstream_42\r\n"
                + "content-type: application/json\r\ncontent-length: 2\r\n\r\n{}"));
        HttpResponse<String> r = Http.post(sidecar.url() + "/v1/chat/completions", "{}", "x-request-id", "agent-7");
        assertEquals(200, r.statusCode());
        assertEquals("req_upstream_42", r.headers().firstValue("x-request-id").orElse(null));
        assertEquals("agent-7", r.headers().firstValue("x-egress-request-id").orElse(null));
        assertEquals("agent-7", upstream.take().header("x-request-id"), "the upstream still gets the agent's id");

        // An upstream that sends none: ours is echoed in both.
        upstream.script(TestUpstream.json(200, "{}"));
        HttpResponse<String> plain = Http.post(sidecar.url() + "/v1/chat/completions", "{}");
        String ours = plain.headers().firstValue("x-egress-request-id").orElse(null);
        assertTrue(ours != null && ours.length() == 32, String.valueOf(ours));
        assertEquals(ours, plain.headers().firstValue("x-request-id").orElse(null));
    }

    @Test
    void anInvalidChunkSizeAfterThePlainHeadStillDeliversTheHeadThenCloses() throws Exception {
        upstream.script((ctx, req) -> TestUpstream.raw(ctx, "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                + "transfer-encoding: chunked\r\n\r\nzz\r\n"));
        try (RawHttp agent = new RawHttp(sidecar.port())) {
            agent.send("POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\n\r\n{}");
            String got = agent.readUntil("\u0000never");
            assertTrue(got.startsWith("HTTP/1.1 200 OK"), "the head reached the agent before the close: " + got);
            assertFalse(got.contains("\r\n0\r\n\r\n"), "a cut body must not end like a complete one: " + got);
            assertTrue(agent.closedByPeer());
        }
    }

    @Test
    void anInvalidChunkBeforeTheFirstEventIsATypedError() throws Exception {
        upstream.script((ctx, req) -> TestUpstream.raw(ctx, "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
                + "transfer-encoding: chunked\r\n\r\nqq\r\n"));
        HttpResponse<String> r = Http.post(sidecar.url() + "/v1/chat/completions", "{\"stream\":true}");
        assertEquals(502, r.statusCode(), r.body());
        assertEquals("upstream_protocol_error", r.headers().firstValue("x-egress-error").orElse(null));
        assertTrue(r.body().contains("malformed response body"), r.body());
    }

    @Test
    void anInvalidChunkMidStreamEndsTheStreamWithAnErrorEvent() throws Exception {
        String event = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"},\"finish_reason\":null}]}\n\n";
        upstream.script((ctx, req) -> TestUpstream.raw(ctx, "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
                + "transfer-encoding: chunked\r\n\r\n" + Integer.toHexString(event.length()) + "\r\n" + event + "\r\nqq\r\n"));
        HttpResponse<String> r = Http.post(sidecar.url() + "/v1/chat/completions", "{\"stream\":true}");
        assertEquals(200, r.statusCode());
        assertTrue(r.body().startsWith(event), r.body());
        assertTrue(r.body().contains("\"code\":\"upstream_protocol_error\""), r.body());
        assertNull(r.headers().firstValue("x-egress-error").orElse(null), "the head was the upstream's");
    }
}
