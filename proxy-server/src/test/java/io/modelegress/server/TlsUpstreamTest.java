package io.modelegress.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.modelegress.server.testing.Http;
import io.modelegress.server.testing.Sidecar;
import io.modelegress.server.testing.TestConfig;
import io.modelegress.server.testing.TestUpstream;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.pkitesting.CertificateBuilder;
import io.netty.pkitesting.X509Bundle;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A real TLS upstream whose certificate is signed by a test CA, reached with and without tls.ca_bundle. */
class TlsUpstreamTest {
    static X509Bundle ca;
    static TestUpstream upstream;
    @TempDir
    static Path dir;

    @BeforeAll
    static void startTlsUpstream() throws Exception {
        ca = new CertificateBuilder().subject("CN=model-egress test CA").setIsCertificateAuthority(true)
                .algorithm(CertificateBuilder.Algorithm.ecp256).buildSelfSigned();
        X509Bundle leaf = new CertificateBuilder().subject("CN=localhost").addSanDnsName("localhost")
                .addSanIpAddress("127.0.0.1").algorithm(CertificateBuilder.Algorithm.ecp256).buildIssuedBy(ca);
        upstream = new TestUpstream(SslContextBuilder.forServer(leaf.toKeyManagerFactory()).build());
        upstream.script(TestUpstream.json(200, "{\"ok\":true}"));
        Files.writeString(dir.resolve("ca.pem"), ca.getCertificatePEM());
    }

    @AfterAll
    static void stop() {
        upstream.close();
    }

    private static TestConfig config() {
        return TestConfig.config().upstream("secure", "https://localhost:" + upstream.port()).route(null, "/v1", "secure");
    }

    @Test
    void trustsAnUpstreamSignedByTheConfiguredCaBundle() throws Exception {
        try (Sidecar s = config().set("tls.ca_bundle", dir.resolve("ca.pem")).start()) {
            HttpResponse<String> r = Http.get(s.url() + "/v1/models");
            assertEquals(200, r.statusCode());
            assertEquals("{\"ok\":true}", r.body());
            assertEquals("localhost:" + upstream.port(), upstream.take().header("host"));
        }
    }

    @Test
    void withoutTheCaBundleTheHandshakeFailsCleanly() throws Exception {
        try (Sidecar s = config().start()) {
            HttpResponse<String> r = Http.get(s.url() + "/v1/models");
            assertEquals(502, r.statusCode());
            assertEquals("tls_handshake_failed", r.headers().firstValue("x-egress-error").orElseThrow());
            assertEquals("false", r.headers().firstValue("x-should-retry").orElseThrow());
            assertTrue(r.body().contains("TLS handshake with localhost:" + upstream.port() + " failed"), r.body());
            assertTrue(r.body().contains("\"code\":\"tls_handshake_failed\""), r.body());
        }
    }

    @Test
    void theCertificateMustNameTheHostWeConnectTo() throws Exception {
        // The certificate names localhost and 127.0.0.1, not this alias: hostname verification must refuse it.
        TestConfig wrongName = TestConfig.config().set("tls.ca_bundle", dir.resolve("ca.pem"))
                .set("dns.hosts", Map.of("wrong.test", "127.0.0.1"))
                .upstream("secure", "https://wrong.test:" + upstream.port()).route(null, "/v1", "secure");
        try (Sidecar s = wrongName.start()) {
            HttpResponse<String> r = Http.get(s.url() + "/v1/models");
            assertEquals("tls_handshake_failed", r.headers().firstValue("x-egress-error").orElseThrow(), r.body());
        }
    }
}
