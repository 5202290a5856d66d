package io.modelegress.server;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.modelegress.server.testing.RawHttp;
import io.modelegress.server.testing.Sidecar;
import io.modelegress.server.testing.TestConfig;
import io.modelegress.server.testing.TestUpstream;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** server.max_connections and server.admin_max_connections: over the cap a connection is closed at once, counted. */
@Timeout(60)
class ConnectionLimitTest {
    private final TestUpstream upstream = new TestUpstream();
    private final Sidecar sidecar = TestConfig.config().server("max_connections", 2).server("admin_max_connections", 2)
            .upstream("up", upstream.url()).route("openai", "/v1", "up").start();

    ConnectionLimitTest() throws Exception {}

    @AfterEach
    void tearDown() {
        sidecar.close();
        upstream.close();
    }

    private String scrape() { return sidecar.server.metrics().scrape(); }

    private static void assertClosedAtOnceWithoutAResponse(int port) throws Exception {
        try (RawHttp over = new RawHttp(port)) {
            long t0 = System.nanoTime();
            assertTrue(over.closedByPeer(), "the connection over the cap is closed, with no response");
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(ms < 2000, "closed after " + ms + "ms");
        }
    }

    @Test
    void anAgentConnectionOverMaxConnectionsIsClosedAtOnceAndCounted() throws Exception {
        try (RawHttp a = new RawHttp(sidecar.port()); RawHttp b = new RawHttp(sidecar.port())) {
            // Both answered: both were accepted and are counted before the third arrives.
            assertEquals(200, a.send("GET /v1/models HTTP/1.1\r\nHost: x\r\n\r\n").read().status());
            assertEquals(200, b.send("GET /v1/models HTTP/1.1\r\nHost: x\r\n\r\n").read().status());
            assertClosedAtOnceWithoutAResponse(sidecar.port());
            assertTrue(scrape().contains("egress_connections_rejected_total{listener=\"agent\"} 1.0"), scrape());
            assertTrue(scrape().contains("egress_connections_open{listener=\"agent\"} 2.0"), scrape());
            assertEquals(200, a.send("GET /v1/models HTTP/1.1\r\nHost: x\r\n\r\n").read().status(), "open ones keep working");
        }
        // The cap counts open connections: once those two closed, a new one is served again.
        await().atMost(Duration.ofSeconds(10)).until(() -> scrape().contains("egress_connections_open{listener=\"agent\"} 0.0"));
        try (RawHttp c = new RawHttp(sidecar.port())) {
            assertEquals(200, c.send("GET /v1/models HTTP/1.1\r\nHost: x\r\n\r\n").read().status());
        }
        assertEquals(4, upstream.receivedCount(), "three requests before, one after: the rejected connection sent nothing upstream");
    }

    @Test
    void anAdminConnectionOverAdminMaxConnectionsIsClosedAtOnceAndCounted() throws Exception {
        int admin = sidecar.server.adminAddress().getPort();
        try (RawHttp a = new RawHttp(admin); RawHttp b = new RawHttp(admin)) {
            assertEquals(200, a.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").read().status());
            assertEquals(200, b.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").read().status());
            assertClosedAtOnceWithoutAResponse(admin);
            assertTrue(scrape().contains("egress_connections_rejected_total{listener=\"admin\"} 1.0"), scrape());
            assertEquals(200, a.send("GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n").read().status(), "probes on open connections still answer");
        }
        // The agent port has its own count.
        try (RawHttp agent = new RawHttp(sidecar.port())) {
            assertEquals(200, agent.send("GET /v1/models HTTP/1.1\r\nHost: x\r\n\r\n").read().status());
        }
    }
}
