package io.modelegress.server.doctor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.modelegress.server.cli.MainTestAccess;
import io.modelegress.server.testing.FaultServer;
import io.modelegress.server.testing.TestUpstream;
import io.modelegress.server.testing.TunnelProxy;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.pkitesting.CertificateBuilder;
import io.netty.pkitesting.X509Bundle;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * doctor on corporate proxy paths: the proxy chosen and why (config list, PAC line), each failover step, the auth
 * scheme negotiated, and a hint naming the likely cause (PAC fetch failure, an NTLMv1-only proxy).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class DoctorProxyTest {
    @TempDir
    Path dir;
    io.netty.handler.ssl.SslContext tls;

    @BeforeEach
    void certificates() throws Exception {
        X509Bundle ca = new CertificateBuilder().subject("CN=doctor proxy CA").setIsCertificateAuthority(true)
                .algorithm(CertificateBuilder.Algorithm.ecp256).buildSelfSigned();
        X509Bundle leaf = new CertificateBuilder().subject("CN=api.test").addSanDnsName("api.test")
                .algorithm(CertificateBuilder.Algorithm.ecp256).buildIssuedBy(ca);
        Files.writeString(dir.resolve("ca.pem"), ca.getCertificatePEM());
        tls = SslContextBuilder.forServer(leaf.toKeyManagerFactory()).build();
    }

    MainTestAccess.Result doctor(String proxyBlock, int upstreamPort) throws Exception {
        Path f = Files.writeString(dir.resolve("egress.yaml"), proxyBlock
                + "tls: { ca_bundle: " + dir.resolve("ca.pem") + " }\n"
                + "dns: { hosts: { api.test: 127.0.0.1 } }\n"
                + "upstreams:\n  api: { url: \"https://api.test:" + upstreamPort + "\" }\n"
                + "routes:\n  - { name: r, prefix: /v1, upstreams: [api] }\n");
        return MainTestAccess.run(Map.of(), "doctor", "--config", f.toString());
    }

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

    @Test
    void showsEachFailoverStepAndThePathThatWorked() throws Exception {
        int refused = refusedPort();
        try (TestUpstream up = new TestUpstream(tls); TunnelProxy good = new TunnelProxy()) {
            up.script(TestUpstream.json(200, "{\"data\":[]}"));
            MainTestAccess.Result r = doctor("proxy: { use_environment: false, https: [\"http://127.0.0.1:" + refused
                    + "\", \"" + good.url() + "\"] }\n", up.port());
            assertEquals(0, r.code(), r.out() + r.err());
            assertTrue(r.out().contains("failover: http://127.0.0.1:" + refused + ", " + good.url()), r.out());
            assertTrue(r.out().contains("failover warn") && r.out().contains("(proxy.https[0]) failed at connect [proxy_unreachable]"), r.out());
            assertTrue(r.out().contains("http     ok"), r.out());
        }
    }

    @Test
    void aPacFetchFailureIsTheHint() throws Exception {
        try (TestUpstream up = new TestUpstream(tls)) {
            MainTestAccess.Result r = doctor("proxy: { use_environment: false, pac: \"file://" + dir.resolve("missing.pac") + "\" }\n", up.port());
            assertNotEquals(0, r.code(), r.out());
            assertTrue(r.out().contains("proxy    FAIL") || r.out().contains("proxy    fail"), r.out());
            assertTrue(r.out().contains("hint: PAC fetch failure") && r.out().contains("missing.pac"), r.out());
        }
    }

    @Test
    void thePacLineThatChoseTheProxyIsShown() throws Exception {
        try (TestUpstream up = new TestUpstream(tls); TunnelProxy good = new TunnelProxy()) {
            up.script(TestUpstream.json(200, "{\"data\":[]}"));
            Path pac = Files.writeString(dir.resolve("p.pac"), "function FindProxyForURL(u, h) { return 'PROXY 127.0.0.1:" + good.port() + "; DIRECT'; }");
            MainTestAccess.Result r = doctor("proxy: { use_environment: false, pac: \"" + pac.toUri() + "\" }\n", up.port());
            assertEquals(0, r.code(), r.out() + r.err());
            assertTrue(r.out().contains("returned \"PROXY 127.0.0.1:" + good.port() + "; DIRECT\""), r.out());
        }
    }

    @Test
    void explainProxyPrintsThePacAnswerTheFailoverListAndTheEntryUsed() throws Exception {
        Path pac = Files.writeString(dir.resolve("corp.pac"), "function FindProxyForURL(u, h) {"
                + " return dnsDomainIs(h, '.test') ? 'PROXY a.corp:3128; PROXY b.corp:3128; DIRECT' : 'DIRECT'; }");
        Path f = Files.writeString(dir.resolve("egress.yaml"), "proxy: { use_environment: false, pac: \"" + pac.toUri()
                + "\", auth: { scheme: auto, username: u, password: p } }\n"
                + "upstreams:\n  api: { url: \"https://api.test\" }\nroutes:\n  - { name: r, prefix: /v1, upstreams: [api] }\n");
        MainTestAccess.Result r = MainTestAccess.run(Map.of(), "explain-proxy", "--config", f.toString(), "https://api.test/v1");
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("returned \"PROXY a.corp:3128; PROXY b.corp:3128; DIRECT\""), r.out());
        assertTrue(r.out().contains("the first is used: PAC \"PROXY a.corp:3128\""), r.out());
        assertTrue(r.out().contains("DIRECT  from PAC \"DIRECT\""), r.out());
        assertTrue(r.out().contains("auth: auto: not negotiated yet"), r.out());
        assertTrue(r.out().contains("PAC file " + pac.toUri() + " loaded at"), r.out());
    }

    @Test
    void anNtlmV1OnlyProxyIsNamedInTheHint() throws Exception {
        // A CHALLENGE without target info or extended session security: what a proxy that allows only NTLMv1 sends.
        byte[] m = new byte[48];
        System.arraycopy("NTLMSSP\0".getBytes(java.nio.charset.StandardCharsets.US_ASCII), 0, m, 0, 8);
        m[8] = 2;
        m[20] = 0x01;
        m[21] = (byte) 0x82;
        m[24] = 0x11;
        String challenge = Base64.getEncoder().encodeToString(m);
        try (TestUpstream up = new TestUpstream(tls);
             FaultServer v1 = FaultServer.replying("HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: NTLM "
                     + challenge + "\r\nContent-Length: 0\r\n\r\n")) {
            MainTestAccess.Result r = doctor("proxy: { use_environment: false, https: \"http://127.0.0.1:" + v1.port()
                    + "\", auth: { scheme: ntlm, domain: CORP, username: bob, password: pw } }\n", up.port());
            assertNotEquals(0, r.code(), r.out());
            assertTrue(r.out().contains("auth ntlm"), r.out());
            assertTrue(r.out().contains("hint:") && r.out().contains("NTLMv1") && r.out().contains("enable NTLMv2"), r.out());
            assertTrue(!r.out().contains(" pw ") && !r.out().contains(":pw"), r.out());
        }
    }
}
