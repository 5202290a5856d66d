package io.modelegress.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.modelegress.server.testing.RawHttp;
import io.modelegress.server.testing.Sidecar;
import io.modelegress.server.testing.TestConfig;
import io.modelegress.server.testing.TestUpstream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** What the agent side refuses, and how: specific JSON errors, never a reset. */
class AgentSideTest {
    private final TestUpstream upstream = new TestUpstream();
    private final Sidecar sidecar = TestConfig.config()
            .server("max_request_body", "1KiB").server("max_header_size", "2KiB")
            .server("request_read_timeout", "300ms").server("idle_timeout", "400ms")
            .upstream("up", upstream.url())
            .route("openai", "/v1", "up")
            .route("claude", "/anthropic", r -> r.stripPrefix().upstreams("up").dialect("anthropic"))
            .start();

    AgentSideTest() throws Exception {}

    @AfterEach
    void tearDown() {
        sidecar.close();
        upstream.close();
    }

    @Test
    void unmatchedPathIsRouteNotFoundInJson() throws Exception {
        try (RawHttp raw = new RawHttp(sidecar.port())) {
            RawHttp.Response r = raw.send("GET /v2/models HTTP/1.1\r\nHost: x\r\n\r\n").read();
            assertEquals(404, r.status());
            assertEquals("route_not_found", r.header("x-egress-error"));
            assertEquals("application/json", r.header("content-type"));
            assertTrue(r.body().startsWith("{\"error\":{\"message\":\"no route for /v2/models"), r.body());
            assertTrue(r.body().contains("\"type\":\"egress_error\",\"code\":\"route_not_found\",\"param\":null"), r.body());
        }
        assertEquals(0, upstream.receivedCount());
    }

    @Test
    void aPrefixMatchesOnlyAtASegmentBoundary() throws Exception {
        try (RawHttp raw = new RawHttp(sidecar.port())) {
            assertEquals(404, raw.send("GET /v1beta/models HTTP/1.1\r\nHost: x\r\n\r\n").read().status());
        }
    }

    @Test
    void absoluteFormAndConnectAreRefusedNotProxied() throws Exception {
        try (RawHttp raw = new RawHttp(sidecar.port())) {
            RawHttp.Response r = raw.send("GET http://example.com/v1/models HTTP/1.1\r\nHost: example.com\r\n\r\n").read();
            assertEquals(405, r.status());
            assertEquals("method_not_allowed", r.header("x-egress-error"));
            assertTrue(r.body().contains("not an open proxy"), r.body());
            RawHttp.Response c = raw.send("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n").read();
            assertEquals(405, c.status());
        }
        assertEquals(0, upstream.receivedCount());
    }

    @Test
    void oversizedBodyIs413AndTheConnectionStaysUsable() throws Exception {
        try (RawHttp raw = new RawHttp(sidecar.port())) {
            String big = "x".repeat(4096);
            RawHttp.Response r = raw.send("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    + "Content-Length: " + big.length() + "\r\n\r\n" + big).read();
            assertEquals(413, r.status());
            assertEquals("request_too_large", r.header("x-egress-error"));
            assertTrue(r.body().contains("server.max_request_body"), r.body());
            RawHttp.Response next = raw.send("GET /v1/models HTTP/1.1\r\nHost: x\r\n\r\n").read();
            assertEquals(200, next.status());
        }
        assertEquals("/v1/models", upstream.take().uri());
    }

    @Test
    void anthropicRouteErrorsUseAnthropicsShape() throws Exception {
        try (RawHttp raw = new RawHttp(sidecar.port())) {
            String big = "x".repeat(2000);
            RawHttp.Response r = raw.send("POST /anthropic/v1/messages HTTP/1.1\r\nHost: x\r\nContent-Length: "
                    + big.length() + "\r\n\r\n" + big).read();
            assertEquals(413, r.status());
            assertTrue(r.body().startsWith("{\"type\":\"error\",\"error\":{\"type\":\"request_too_large\",\"message\":"), r.body());
        }
    }

    @Test
    void oversizedHeadersAre431NotAReset() throws Exception {
        try (RawHttp raw = new RawHttp(sidecar.port())) {
            RawHttp.Response r = raw.send("GET /v1/models HTTP/1.1\r\nHost: x\r\nX-Big: " + "y".repeat(4000) + "\r\n\r\n").read();
            assertEquals(431, r.status());
            assertEquals("request_header_fields_too_large", r.header("x-egress-error"));
            assertTrue(raw.closedByPeer());
        }
    }

    @Test
    void garbageIsABadRequest() throws Exception {
        try (RawHttp raw = new RawHttp(sidecar.port())) {
            RawHttp.Response r = raw.send("NOT HTTP AT ALL\r\n\r\n").read();
            assertEquals(400, r.status());
            assertFalse(r.body().isEmpty());
        }
    }

    @Test
    void aRequestThatTricklesInIsClosedAfterTheReadTimeout() throws Exception {
        try (RawHttp raw = new RawHttp(sidecar.port())) {
            long t0 = System.nanoTime();
            RawHttp.Response r = raw.send("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"a\"").read();
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertEquals(408, r.status());
            assertEquals("request_read_timeout", r.header("x-egress-error"));
            assertTrue(raw.closedByPeer());
            assertTrue(ms >= 250 && ms < 2000, "took " + ms + "ms");
        }
        assertEquals(0, upstream.receivedCount());
    }

    @Test
    void aRequestHeadTrickledByteByByteIsClosedAfterTheReadTimeoutNotTheIdleTimeout() throws Exception {
        // 50 ms a byte: the head would take 20 s, well within this sidecar's idle_timeout; only the read timer ends it.
        try (Sidecar patient = TestConfig.config()
                .server("request_read_timeout", "300ms").server("idle_timeout", "60s")
                .upstream("up", upstream.url()).route("openai", "/v1", "up").start()) {
            trickleHeadInto(patient);
        }
        assertEquals(0, upstream.receivedCount());
    }

    private static void trickleHeadInto(Sidecar sidecar) throws Exception {
        byte[] head = ("GET /v1/models HTTP/1.1\r\nHost: x\r\nX-Slow: " + "z".repeat(400) + "\r\n\r\n")
                .getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
        java.util.concurrent.ScheduledExecutorService trickler = java.util.concurrent.Executors.newSingleThreadScheduledExecutor();
        try (RawHttp raw = new RawHttp(sidecar.port())) {
            java.util.concurrent.atomic.AtomicInteger next = new java.util.concurrent.atomic.AtomicInteger();
            long t0 = System.nanoTime();
            trickler.scheduleAtFixedRate(() -> {
                int i = next.getAndIncrement();
                if (i >= head.length) throw new IllegalStateException("head sent whole");
                try {
                    raw.send(new byte[] {head[i]});
                } catch (java.io.IOException closed) {
                    throw new java.io.UncheckedIOException(closed); // stops the trickle
                }
            }, 0, 50, java.util.concurrent.TimeUnit.MILLISECONDS);
            RawHttp.Response r = raw.read();
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertEquals(408, r.status());
            assertEquals("request_read_timeout", r.header("x-egress-error"));
            assertTrue(r.body().contains("server.request_read_timeout"), r.body());
            assertTrue(raw.closedByPeer());
            assertTrue(ms >= 250 && ms < 2000, "took " + ms + "ms");
            assertTrue(next.get() < head.length, "the head must still have been incomplete");
        } finally {
            trickler.shutdownNow();
        }
    }

    @Test
    void anIdleAgentConnectionIsClosed() throws Exception {
        try (RawHttp raw = new RawHttp(sidecar.port())) {
            assertEquals(200, raw.send("GET /v1/models HTTP/1.1\r\nHost: x\r\n\r\n").read().status());
            long t0 = System.nanoTime();
            assertTrue(raw.closedByPeer());
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(ms >= 300 && ms < 3000, "closed after " + ms + "ms");
        }
    }
}
