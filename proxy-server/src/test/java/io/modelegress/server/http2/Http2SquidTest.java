package io.modelegress.server.http2;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.modelegress.server.testing.H2Upstream;
import io.modelegress.server.testing.Http;
import io.modelegress.server.testing.Sidecar;
import io.modelegress.server.testing.SquidProxy;
import io.modelegress.server.testing.TestConfig;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** ALPN inside a real Squid's CONNECT tunnel: the TLS to the upstream is the sidecar's own, so h2 is chosen there too. */
@Timeout(60)
class Http2SquidTest {
    static final String USER = "agent";
    static final String PASSWORD = "h2-tunnel-secret";
    static SquidProxy squid;
    @TempDir
    static Path dir;

    @BeforeAll
    static void startSquid() throws Exception {
        squid = SquidProxy.start(USER, PASSWORD, "h2.test");
    }

    @AfterAll
    static void stopSquid() {
        if (squid != null) squid.close();
    }

    @Test
    void theUpstreamSeesH2ThroughTheTunnel() throws Exception {
        try (H2Upstream up = new H2Upstream(dir, true, 0, "h2.test")) {
            String proxy = squid.url(USER, PASSWORD);
            try (Sidecar s = TestConfig.config().ignoreEnvironmentProxy().set("proxy.https", proxy)
                    .set("tls.ca_bundle", up.caBundle().toString()).maxAttempts(1)
                    .upstream("up", "https://h2.test:" + up.port()).route("r", "/v1", "up").start()) {
                for (int i = 0; i < 3; i++) {
                    HttpResponse<String> r = Http.post(s.url() + "/v1/chat/completions", "{}");
                    assertEquals(200, r.statusCode(), r.body());
                }
                for (int i = 0; i < 3; i++) {
                    H2Upstream.Received got = up.take();
                    assertEquals("h2", got.protocol());
                    assertEquals("h2.test:" + up.port(), got.header("host"));
                    assertNull(got.header("proxy-authorization"), "proxy credentials reached the upstream");
                }
            }
            squid.awaitAccessLog(java.time.Duration.ofSeconds(10), log -> log.stream().anyMatch(e -> e.method().equals("CONNECT")));
        }
    }
}
