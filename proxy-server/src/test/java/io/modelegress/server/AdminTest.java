package io.modelegress.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.modelegress.server.testing.Http;
import io.modelegress.server.testing.Sidecar;
import io.modelegress.server.testing.TestConfig;
import io.modelegress.server.testing.TestUpstream;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AdminTest {
    @TempDir
    static Path dir;
    private final TestUpstream upstream = new TestUpstream();
    private final Sidecar sidecar;

    AdminTest() throws Exception {
        Path keyFile = Files.createTempFile(dir, "key", ".txt"); // in the class's @TempDir: deleted with it
        Files.writeString(keyFile, "file-secret-456\n");
        sidecar = TestConfig.config()
                .ignoreEnvironmentProxy().set("proxy.https", "http://puser:proxy-secret-789@proxy.corp:3128")
                .upstream("up", upstream.url(), u -> u.auth("Authorization", "Bearer ${KEY}"))
                .upstream("filed", "https://api.example.com", u -> u.authFile("x-api-key", keyFile))
                .route("main", "/v1", "up")
                .route("f", "/f", "filed")
                .start(
                Map.of("KEY", "env-secret-123"));
    }

    @AfterEach
    void tearDown() {
        sidecar.close();
        upstream.close();
    }

    @Test
    void probesAnswer() throws Exception {
        assertEquals(200, Http.get(sidecar.adminUrl() + "/healthz").statusCode());
        assertEquals(200, Http.get(sidecar.adminUrl() + "/readyz").statusCode());
        assertEquals(404, Http.get(sidecar.adminUrl() + "/nope").statusCode());
    }

    @Test
    void metricsUseTheContractNames() throws Exception {
        assertEquals(200, Http.get(sidecar.url() + "/v1/models").statusCode());
        assertEquals(404, Http.get(sidecar.url() + "/zzz").statusCode());
        String m = Http.get(sidecar.adminUrl() + "/metrics").body();
        for (String name : new String[] {
            "egress_requests_total{outcome=\"ok\",route=\"main\",status_class=\"2xx\",upstream=\"up\"} 1.0",
            "egress_errors_total{code=\"route_not_found\",route=\"-\"} 1.0",
            "egress_request_duration_seconds_bucket{", "egress_time_to_first_byte_seconds_count{",
            "egress_upstream_attempts_total{result=\"ok\",upstream=\"up\"} 1.0",
            "egress_upstream_connections{state=\"idle\",upstream=\"up\"} 1.0",
        }) {
            assertTrue(m.contains(name), name + " missing from:\n" + m);
        }
    }

    @Test
    void configIsTheEffectiveOneWithSecretsRedacted() throws Exception {
        HttpResponse<String> r = Http.get(sidecar.adminUrl() + "/config");
        assertEquals(200, r.statusCode());
        String body = r.body();
        assertTrue(body.contains("\"response_headers\" : \"2m\""), body);
        assertTrue(body.contains("from ${KEY}"), body);
        assertTrue(body.contains("http://puser:***@proxy.corp:3128"), body);
        for (String secret : new String[] {"env-secret-123", "file-secret-456", "proxy-secret-789"}) {
            assertFalse(body.contains(secret), secret + " leaked into /config");
        }
        String metrics = Http.get(sidecar.adminUrl() + "/metrics").body();
        assertFalse(metrics.contains("secret"));
    }

    @Test
    void debugProxyExplainsTheDecision() throws Exception {
        HttpResponse<String> r = Http.get(sidecar.adminUrl() + "/debug/proxy?url=https://api.example.com/v1");
        assertEquals(200, r.statusCode());
        assertTrue(r.body().contains("\"proxy\" : \"http://puser:***@proxy.corp:3128\""), r.body());
        assertTrue(r.body().contains("proxy.https"), r.body());
        assertEquals(400, Http.get(sidecar.adminUrl() + "/debug/proxy").statusCode());
    }

    @Test
    void debugProxyNeverEchoesCredentialsInTheUrlItWasAsked() throws Exception {
        for (String url : new String[] {"https://u:PASS-1@api.example.com/v1", "https://TOKEN-2@api.example.com/v1",
                "https://u:PASS-3@", "ftp://u:PASS-4@api.example.com"}) {
            HttpResponse<String> r = Http.get(sidecar.adminUrl() + "/debug/proxy?url="
                    + java.net.URLEncoder.encode(url, java.nio.charset.StandardCharsets.UTF_8));
            assertFalse(r.body().contains("PASS") || r.body().contains("TOKEN"), url + " -> " + r.body());
            assertTrue(r.body().contains("***"), url + " -> " + r.body());
        }
    }

    @Test
    void everyMetricOnTheScrapeHasAHelpText() throws Exception {
        assertEquals(200, Http.get(sidecar.url() + "/v1/models").statusCode());
        assertEquals(404, Http.get(sidecar.url() + "/zzz").statusCode());
        Http.get(sidecar.url() + "/f/models"); // an upstream that cannot be reached: attempts and errors by code
        String m = Http.get(sidecar.adminUrl() + "/metrics").body();
        assertTrue(m.contains("# HELP egress_requests_total"), m);
        java.util.List<String> empty = io.modelegress.server.metrics.EgressMetricsHelpTest.helpLinesWithoutText(m);
        assertTrue(empty.isEmpty(), "HELP without text:\n" + String.join("\n", empty));
    }
}
