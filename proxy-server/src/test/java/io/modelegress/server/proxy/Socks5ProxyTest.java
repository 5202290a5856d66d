package io.modelegress.server.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.modelegress.server.testing.FakeDns;
import io.modelegress.server.testing.Http;
import io.modelegress.server.testing.Sidecar;
import io.modelegress.server.testing.Socks5TestProxy.Connect;
import io.modelegress.server.testing.Socks5TestProxy;
import io.modelegress.server.testing.TestConfig;
import io.modelegress.server.testing.TestUpstream;
import io.netty.handler.codec.socksx.v5.Socks5AddressType;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.pkitesting.CertificateBuilder;
import io.netty.pkitesting.X509Bundle;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The sidecar through a SOCKS5 proxy with username/password: {@code socks5h} hands the proxy the name,
 * {@code socks5} resolves it first and hands over an address, TLS runs inside the tunnel, and a refused login or
 * destination is a clean {@code proxy_*} answer.
 */
class Socks5ProxyTest {
    static final String USER = "socks-user";
    static final String PASSWORD = "socks-Pa55";
    /** The proxy's own name table: model.test exists only here (and in dns.hosts where a test says so). */
    static final Map<String, String> PROXY_NAMES = Map.of("model.test", "127.0.0.1");

    static SslContext upstreamTls;
    static Path caBundle;
    @TempDir
    static Path dir;

    @BeforeAll
    static void certificates() throws Exception {
        X509Bundle ca = new CertificateBuilder().subject("CN=socks test CA").setIsCertificateAuthority(true)
                .algorithm(CertificateBuilder.Algorithm.ecp256).buildSelfSigned();
        X509Bundle leaf = new CertificateBuilder().subject("CN=model.test").addSanDnsName("model.test")
                .algorithm(CertificateBuilder.Algorithm.ecp256).buildIssuedBy(ca);
        upstreamTls = SslContextBuilder.forServer(leaf.toKeyManagerFactory()).build();
        caBundle = dir.resolve("ca.pem");
        Files.writeString(caBundle, ca.getCertificatePEM());
    }

    /**
     * Every name the sidecar might look up goes to an NXDOMAIN server that counts queries, so a test can prove the
     * sidecar never asked DNS for the upstream.
     */
    static TestConfig config(String proxyUrl, String upstreamUrl, FakeDns dns, Map<String, String> dnsHosts) {
        return TestConfig.config()
                .ignoreEnvironmentProxy().set("proxy.https", proxyUrl).set("proxy.http", proxyUrl)
                .set("tls.ca_bundle", caBundle)
                .set("dns.servers", List.of("127.0.0.1:" + dns.port())).set("dns.hosts", dnsHosts)
                .timeout("dns", "2s").maxAttempts(1)
                .upstream("model", upstreamUrl)
                .route("model", "/v1", "model");
    }

    @Test
    void socks5hHandsTheProxyTheNameUnresolved() throws Exception {
        try (TestUpstream up = new TestUpstream(); FakeDns dns = FakeDns.nxdomain();
             Socks5TestProxy socks = new Socks5TestProxy(USER, PASSWORD, PROXY_NAMES);
             Sidecar s = config(socks.url("socks5h", USER, PASSWORD), "http://model.test:" + up.port(), dns, Map.of()).start()) {
            up.script(TestUpstream.json(200, "{\"via\":\"socks5h\"}"));
            HttpResponse<String> r = Http.get(s.url() + "/v1/models");
            assertEquals(200, r.statusCode(), r.body());
            assertEquals("{\"via\":\"socks5h\"}", r.body());
            assertEquals(List.of(new Connect(Socks5AddressType.DOMAIN, "model.test", up.port())), socks.connects());
            assertEquals(List.of(USER), socks.usernames());
            assertEquals(0, dns.queries(), "socks5h must leave the name to the proxy");
            TestUpstream.Received got = up.take();
            assertEquals("/v1/models", got.uri(), "a SOCKS tunnel carries origin-form, not absolute-form");
            assertEquals("model.test:" + up.port(), got.header("host"));
            assertNull(got.header("proxy-authorization"));
        }
    }

    @Test
    void socks5ResolvesLocallyAndHandsTheProxyAnAddress() throws Exception {
        try (TestUpstream up = new TestUpstream(); FakeDns dns = FakeDns.nxdomain();
             Socks5TestProxy socks = new Socks5TestProxy(USER, PASSWORD, PROXY_NAMES);
             Sidecar s = config(socks.url("socks5", USER, PASSWORD), "http://model.test:" + up.port(), dns,
                     Map.of("model.test", "127.0.0.1")).start()) {
            HttpResponse<String> r = Http.get(s.url() + "/v1/models");
            assertEquals(200, r.statusCode(), r.body());
            assertEquals(List.of(new Connect(Socks5AddressType.IPv4, "127.0.0.1", up.port())), socks.connects());
            assertEquals("model.test:" + up.port(), up.take().header("host"), "the Host header keeps the name");
        }
    }

    @Test
    void socks5WithoutALocalAnswerFailsAsDnsNotAtTheProxy() throws Exception {
        // The proxy could resolve model.test, but socks5 means the sidecar must: its resolver says NXDOMAIN.
        try (TestUpstream up = new TestUpstream(); FakeDns dns = FakeDns.nxdomain();
             Socks5TestProxy socks = new Socks5TestProxy(USER, PASSWORD, PROXY_NAMES);
             Sidecar s = config(socks.url("socks5", USER, PASSWORD), "http://model.test:" + up.port(), dns, Map.of()).start()) {
            HttpResponse<String> r = Http.get(s.url() + "/v1/models");
            assertEquals(502, r.statusCode(), r.body());
            assertEquals("dns_resolution_failed", r.headers().firstValue("x-egress-error").orElse(null), r.body());
            assertTrue(dns.queries() > 0);
            assertEquals(List.of(), socks.connects());
        }
    }

    @Test
    void tlsRunsInsideASocks5hTunnel() throws Exception {
        try (TestUpstream up = new TestUpstream(upstreamTls); FakeDns dns = FakeDns.nxdomain();
             Socks5TestProxy socks = new Socks5TestProxy(USER, PASSWORD, PROXY_NAMES);
             Sidecar s = config(socks.url("socks5h", USER, PASSWORD), "https://model.test:" + up.port(), dns, Map.of()).start()) {
            up.script(TestUpstream.json(200, "{\"tls\":true}"));
            for (int i = 0; i < 5; i++) {
                HttpResponse<String> r = Http.post(s.url() + "/v1/chat/completions", "{\"n\":" + i + "}");
                assertEquals(200, r.statusCode(), r.body());
                assertEquals("{\"tls\":true}", r.body());
            }
            assertEquals(List.of(new Connect(Socks5AddressType.DOMAIN, "model.test", up.port())), socks.connects(),
                    "one tunnel, kept alive for all five requests");
            assertEquals(1, up.accepted());
            assertEquals("model.test:" + up.port(), up.take().header("host"));
        }
    }

    @Test
    void aMultiMegabyteBodyCrossesTheTunnelIntact() throws Exception {
        String big = "{\"data\":\"" + "0123456789abcdef".repeat(256 * 1024) + "\"}"; // 4 MiB, many relay reads
        try (TestUpstream up = new TestUpstream(upstreamTls); FakeDns dns = FakeDns.nxdomain();
             Socks5TestProxy socks = new Socks5TestProxy(USER, PASSWORD, PROXY_NAMES);
             Sidecar s = config(socks.url("socks5h", USER, PASSWORD), "https://model.test:" + up.port(), dns, Map.of()).start()) {
            up.script(TestUpstream.json(200, big));
            HttpResponse<String> r = Http.post(s.url() + "/v1/chat/completions", big);
            assertEquals(200, r.statusCode());
            assertEquals(big.length(), r.body().length());
            assertEquals(big, r.body());
            assertEquals(big, up.take().body());
        }
    }

    @Test
    void wrongSocksPasswordIsACleanProxyError() throws Exception {
        String wrong = "not-the-socks-pw";
        try (TestUpstream up = new TestUpstream(); FakeDns dns = FakeDns.nxdomain();
             Socks5TestProxy socks = new Socks5TestProxy(USER, PASSWORD, PROXY_NAMES);
             Sidecar s = config(socks.url("socks5h", USER, wrong), "http://model.test:" + up.port(), dns, Map.of()).start()) {
            HttpResponse<String> r = Http.get(s.url() + "/v1/models");
            assertEquals(502, r.statusCode(), r.body());
            assertEquals("proxy_auth_required", r.headers().firstValue("x-egress-error").orElse(null), r.body());
            assertTrue(r.body().contains("refused the credentials of user " + USER), r.body());
            assertEquals("false", r.headers().firstValue("x-should-retry").orElse(null));
            assertTrue(r.body().contains("socks5h://" + USER + ":***@127.0.0.1:" + socks.port()), r.body());
            assertFalse(r.body().contains(wrong), "the password is in the answer: " + r.body());
            assertEquals(List.of(USER), socks.usernames());
            assertEquals(List.of(), socks.connects());
            assertEquals(0, up.accepted());
        }
    }

    @Test
    void socksProxyThatWantsCredentialsWhenNoneAreSetIsACleanProxyError() throws Exception {
        try (TestUpstream up = new TestUpstream(); FakeDns dns = FakeDns.nxdomain();
             Socks5TestProxy socks = new Socks5TestProxy(USER, PASSWORD, PROXY_NAMES);
             Sidecar s = config("socks5h://127.0.0.1:" + socks.port(), "http://model.test:" + up.port(), dns, Map.of()).start()) {
            HttpResponse<String> r = Http.get(s.url() + "/v1/models");
            assertEquals(502, r.statusCode(), r.body());
            assertEquals("proxy_auth_required", r.headers().firstValue("x-egress-error").orElse(null), r.body());
            assertTrue(r.body().contains("wants credentials and none are set"), r.body());
            assertTrue(r.body().contains("socks5h://127.0.0.1:" + socks.port()), r.body());
            assertEquals(List.of(), socks.usernames(), "offered no credentials, so never got to send any");
            assertEquals(0, up.accepted());
        }
    }

    @Test
    void nameTheProxyCannotResolveIsProxyRejected() throws Exception {
        try (TestUpstream up = new TestUpstream(); FakeDns dns = FakeDns.nxdomain();
             Socks5TestProxy socks = new Socks5TestProxy(USER, PASSWORD, Map.of());
             Sidecar s = config(socks.url("socks5h", USER, PASSWORD), "http://model.test:" + up.port(), dns, Map.of()).start()) {
            HttpResponse<String> r = Http.get(s.url() + "/v1/models");
            assertEquals(502, r.statusCode(), r.body());
            assertEquals("proxy_rejected", r.headers().firstValue("x-egress-error").orElse(null), r.body());
            assertTrue(r.body().contains("refused the tunnel to model.test:" + up.port() + ": HOST_UNREACHABLE"), r.body());
            assertEquals(List.of(new Connect(Socks5AddressType.DOMAIN, "model.test", up.port())), socks.connects());
        }
    }
}
