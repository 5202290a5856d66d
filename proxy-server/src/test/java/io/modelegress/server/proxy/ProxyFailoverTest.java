package io.modelegress.server.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.modelegress.server.testing.FaultServer;
import io.modelegress.server.testing.Http;
import io.modelegress.server.testing.Sidecar;
import io.modelegress.server.testing.TestUpstream;
import io.modelegress.server.testing.TunnelProxy;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.pkitesting.CertificateBuilder;
import io.netty.pkitesting.X509Bundle;
import java.net.InetAddress;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Failover lists on the wire: {@code proxy.https: [a, b]} tried in order when a proxy itself fails at connect
 * (refused, 5xx to CONNECT), the failed one ejected so the next connection skips it, a 407 never failing over,
 * and each step counted in {@code egress_proxy_attempts_total{proxy,outcome}}.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ProxyFailoverTest {
    static SslContext upstreamTls;
    static Path caBundle;

    /** Shared with ProxyPacTest: one CA for api.test, its PEM in a temp file removed at exit. */
    @BeforeAll
    static synchronized void certificates() throws Exception {
        if (upstreamTls != null) return;
        X509Bundle ca = new CertificateBuilder().subject("CN=failover test CA").setIsCertificateAuthority(true)
                .algorithm(CertificateBuilder.Algorithm.ecp256).buildSelfSigned();
        X509Bundle leaf = new CertificateBuilder().subject("CN=api.test").addSanDnsName("api.test")
                .algorithm(CertificateBuilder.Algorithm.ecp256).buildIssuedBy(ca);
        upstreamTls = SslContextBuilder.forServer(leaf.toKeyManagerFactory()).build();
        caBundle = Files.createTempFile("failover-ca", ".pem");
        caBundle.toFile().deleteOnExit();
        Files.writeString(caBundle, ca.getCertificatePEM());
    }

    /** A loopback port nothing listens on: connecting to it is refused. */
    /**
     * A loopback port that refuses connections and stays refused: bound by a socket that never listens, held for the
     * test JVM's life. (A port found free and let go could be handed to the next listener bound to port 0, even the
     * sidecar's own: a CONNECT would then reach something that answers, not a refusal.)
     */
    static int refusedPort() throws Exception {
        java.net.Socket s = new java.net.Socket();
        s.bind(new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        HELD_PORTS.add(s);
        return s.getLocalPort();
    }

    private static final java.util.List<java.net.Socket> HELD_PORTS = java.util.Collections.synchronizedList(new java.util.ArrayList<>());

    static String config(String proxyBlock, int upstreamPort) {
        return proxyBlock + "tls: { ca_bundle: \"" + caBundle + "\" }\n"
                + "dns: { hosts: { api.test: 127.0.0.1 } }\n"
                + "retry: { max_attempts: 1 }\n"
                + "upstreams:\n  api: { url: \"https://api.test:" + upstreamPort + "\", pool: { max_idle: 0 } }\n"
                + "routes:\n  - { name: api, prefix: /api, upstreams: [api] }\n";
    }

    static String list(String... urls) {
        return "proxy: { use_environment: false, https: [\"" + String.join("\", \"", urls) + "\"], eject_for: 5m }\n";
    }

    static double attempts(Sidecar s, String proxy, String outcome) throws Exception {
        String scrape = Http.get(s.adminUrl() + "/metrics").body();
        Matcher m = Pattern.compile("egress_proxy_attempts_total\\{[^}]*\\}").matcher(scrape);
        while (m.find()) {
            String labels = m.group();
            if (labels.contains("proxy=\"" + proxy + "\"") && labels.contains("outcome=\"" + outcome + "\"")) {
                String rest = scrape.substring(m.end()).strip();
                return Double.parseDouble(rest.split("\\s")[0]);
            }
        }
        return 0;
    }

    @Test
    void failsOverToTheNextProxyWhenTheFirstRefusesAndEjectsIt() throws Exception {
        int refused = refusedPort();
        try (TestUpstream api = new TestUpstream(upstreamTls); TunnelProxy good = new TunnelProxy()) {
            api.script(TestUpstream.json(200, "{\"ok\":true}"));
            String bad = "http://127.0.0.1:" + refused;
            try (Sidecar s = Sidecar.start(config(list(bad, good.url()), api.port()))) {
                HttpResponse<String> r = Http.get(s.url() + "/api/v1/models");
                assertEquals(200, r.statusCode(), r.body());
                assertEquals(1, good.connects());
                assertEquals(1.0, attempts(s, bad, "proxy_unreachable"));
                assertEquals(1.0, attempts(s, good.url(), "ok"));

                // The refused proxy is ejected: the next connection goes straight to the second one.
                assertEquals(200, Http.get(s.url() + "/api/v1/models").statusCode());
                assertEquals(2, good.connects());
                assertEquals(1.0, attempts(s, bad, "proxy_unreachable"), "the ejected proxy was tried again");
                String explained = Http.get(s.adminUrl() + "/debug/proxy?url=https://api.test:" + api.port()).body();
                assertTrue(explained.contains("\"failover\"") && explained.contains("ejected_for_ms"), explained);
                assertTrue(explained.indexOf(good.url().substring(7)) < explained.indexOf("ejected_for_ms"),
                        "the ejected proxy is listed last: " + explained);
            }
        }
    }

    @Test
    void a5xxToConnectFailsOverButA407DoesNot() throws Exception {
        try (TestUpstream api = new TestUpstream(upstreamTls); TunnelProxy good = new TunnelProxy();
             FaultServer overloaded = FaultServer.replying("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n");
             FaultServer auth = FaultServer.replying("HTTP/1.1 407 Proxy Authentication Required\r\n"
                     + "Proxy-Authenticate: Basic realm=\"corp\"\r\nContent-Length: 0\r\n\r\n")) {
            api.script(TestUpstream.json(200, "{}"));
            String busy = "http://127.0.0.1:" + overloaded.port();
            try (Sidecar s = Sidecar.start(config(list(busy, good.url()), api.port()))) {
                assertEquals(200, Http.get(s.url() + "/api/v1/models").statusCode());
                assertEquals(1.0, attempts(s, busy, "proxy_rejected"));
            }
            try (Sidecar s = Sidecar.start(config(list("http://127.0.0.1:" + auth.port(), good.url()), api.port()))) {
                HttpResponse<String> r = Http.get(s.url() + "/api/v1/models");
                assertEquals(502, r.statusCode(), r.body());
                assertEquals("proxy_auth_required", r.headers().firstValue("x-egress-error").orElse(""));
                assertEquals(1, good.connects(), "a 407 is the proxy working: the next proxy was not tried");
            }
        }
    }

    @Test
    void whenEveryProxyFailsTheErrorNamesEachOne() throws Exception {
        int a = refusedPort();
        int b = refusedPort();
        try (TestUpstream api = new TestUpstream(upstreamTls)) {
            try (Sidecar s = Sidecar.start(config(list("http://127.0.0.1:" + a, "http://127.0.0.1:" + b), api.port()))) {
                HttpResponse<String> r = Http.get(s.url() + "/api/v1/models");
                assertEquals(502, r.statusCode(), r.body());
                assertEquals("proxy_unreachable", r.headers().firstValue("x-egress-error").orElse(""));
                assertTrue(r.body().contains("127.0.0.1:" + a) && r.body().contains("127.0.0.1:" + b)
                        && r.body().contains("proxy.https[0]"), r.body());
            }
        }
    }

    @Test
    void theUpstreamSeesNoProxyHeadersWhicheverProxyCarriedIt() throws Exception {
        try (TestUpstream api = new TestUpstream(upstreamTls); TunnelProxy good = new TunnelProxy()) {
            api.script(TestUpstream.json(200, "{}"));
            try (Sidecar s = Sidecar.start(config(list("http://127.0.0.1:" + refusedPort(), good.url()), api.port()))) {
                assertEquals(200, Http.get(s.url() + "/api/v1/models").statusCode());
                TestUpstream.Received got = api.take();
                assertEquals("/api/v1/models", got.uri(), "origin-form through the tunnel");
                List<String> connect = List.of(good.heads().get(0).get(":request"));
                assertEquals("CONNECT api.test:" + api.port() + " HTTP/1.1", connect.get(0));
            }
        }
    }
}
