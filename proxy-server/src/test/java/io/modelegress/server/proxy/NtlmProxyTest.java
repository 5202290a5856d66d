package io.modelegress.server.proxy;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.modelegress.server.testing.AccessLogCapture;
import io.modelegress.server.testing.Http;
import io.modelegress.server.testing.Sidecar;
import io.modelegress.server.testing.SquidProxy;
import io.modelegress.server.testing.TestUpstream;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * NTLM against a real Squid with its NTLM helper: the three messages on one connection (Squid authenticates the
 * connection, so the tunnel opens only if the 407 and the authenticated CONNECT shared a socket), {@code scheme:
 * auto} choosing NTLM over Basic though Squid lists Basic first, and the scheme in the access log and explain-proxy.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class NtlmProxyTest {
    static final String USER = "alice";
    static final String PASSWORD = "ntlm-Pa55word";
    static SquidProxy squid;

    @BeforeAll
    static void start() throws Exception {
        ProxyFailoverTest.certificates();
        squid = SquidProxy.startNtlm("basic-user", "basic-pw", "api.test", "plain.test");
    }

    @AfterAll
    static void stop() {
        if (squid != null) squid.close();
    }

    static String config(String scheme, String upstreams) {
        return "proxy: { use_environment: false, https: \"http://127.0.0.1:" + squid.port() + "\", http: \"http://127.0.0.1:"
                + squid.port() + "\", auth: { scheme: " + scheme + ", domain: CORP, username: " + USER + ", password: \"" + PASSWORD + "\" } }\n"
                + "tls: { ca_bundle: \"" + ProxyFailoverTest.caBundle + "\" }\n"
                + "retry: { max_attempts: 1 }\n" + upstreams;
    }

    static String https(int port) {
        return "upstreams:\n  api: { url: \"https://api.test:" + port + "\" }\nroutes:\n  - { name: api, prefix: /api, upstreams: [api] }\n";
    }

    static List<SquidProxy.Entry> tunnels(String hostPort) {
        return squid.accessLog().stream().filter(e -> e.method().equals("CONNECT") && e.url().equals(hostPort)
                && e.status().endsWith("/200")).toList();
    }

    @Test
    void tunnelsThroughSquidWithTheNtlmHandshakeOnOneConnection() throws Exception {
        try (TestUpstream api = new TestUpstream(ProxyFailoverTest.upstreamTls); AccessLogCapture log = new AccessLogCapture()) {
            api.script(TestUpstream.json(200, "{\"via\":\"ntlm\"}"));
            try (Sidecar s = Sidecar.start(config("ntlm", https(api.port())))) {
                HttpResponse<String> r = Http.get(s.url() + "/api/v1/models");
                assertEquals(200, r.statusCode(), r.body());
                assertEquals("{\"via\":\"ntlm\"}", r.body());
                assertTrue(api.take().header("proxy-authorization") == null, "proxy credentials reached the upstream");
                await().atMost(Duration.ofSeconds(5)).until(() -> log.lines().stream().anyMatch(l -> l.contains("\"proxy_auth\":\"ntlm\"")));
            }
            String target = "api.test:" + api.port();
            squid.awaitAccessLog(Duration.ofSeconds(10), l -> !tunnels(target).isEmpty());
            SquidProxy.Entry tunnel = tunnels(target).get(0);
            assertTrue(tunnel.user().toLowerCase().contains(USER), "Squid's NTLM helper saw user " + tunnel.user() + ": " + tunnel.line());
        }
    }

    @Test
    void theChallengeAndTheAuthenticatedConnectShareOneSocket() throws Exception {
        // A proxy that insists, as Windows proxies do, on NTLM messages 2 and 3 on the same connection.
        try (TestUpstream api = new TestUpstream(ProxyFailoverTest.upstreamTls); io.modelegress.server.testing.TunnelProxy proxy = new io.modelegress.server.testing.TunnelProxy()) {
            api.script(TestUpstream.json(200, "{}"));
            proxy.demandNtlm("TlRMTVNTUAACAAAADAAMADgAAAAzgoriASNFZ4mrze8AAAAAAAAAACQAJABEAAAABgBwFwAAAA9TAGUAcgB2AGUAcgACAAwARABvAG0AYQBpAG4AAQAMAFMAZQByAHYAZQByAAAAAAA=");
            String cfg = config("ntlm", https(api.port())).replace("127.0.0.1:" + squid.port(), "127.0.0.1:" + proxy.port());
            try (Sidecar s = Sidecar.start(cfg)) {
                assertEquals(200, Http.get(s.url() + "/api/v1/models").statusCode());
            }
            assertEquals(1, proxy.connections(), "one TCP connection for the whole handshake");
            List<java.util.Map<String, String>> heads = proxy.heads();
            assertEquals(2, heads.size());
            assertTrue(heads.get(0).get("proxy-authorization").startsWith("NTLM TlRMTVNTUAAB"), "message 1 first: " + heads.get(0));
            assertTrue(heads.get(1).get("proxy-authorization").startsWith("NTLM TlRMTVNTUAAD"), "then message 3: " + heads.get(1));
        }
    }

    @Test
    void autoPicksNtlmOverBasicAndSaysSo() throws Exception {
        try (TestUpstream api = new TestUpstream(ProxyFailoverTest.upstreamTls); AccessLogCapture log = new AccessLogCapture()) {
            api.script(TestUpstream.json(200, "{}"));
            try (Sidecar s = Sidecar.start(config("auto", https(api.port())))) {
                HttpResponse<String> r = Http.get(s.url() + "/api/v1/models");
                assertEquals(200, r.statusCode(), r.body());
                await().atMost(Duration.ofSeconds(5)).until(() -> log.lines().stream().anyMatch(l -> l.contains("\"proxy_auth\":\"ntlm\"")));
                String explained = Http.get(s.adminUrl() + "/debug/proxy?url=https://api.test:" + api.port()).body();
                assertTrue(explained.contains("\"auth\" : \"auto: ntlm"), explained);
                assertFalse(explained.contains(PASSWORD) || Http.get(s.adminUrl() + "/config").body().contains(PASSWORD));
            }
        }
    }

    @Test
    void doctorSaysWhichSchemeAutoNegotiated(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        try (TestUpstream api = new TestUpstream(ProxyFailoverTest.upstreamTls)) {
            api.script(TestUpstream.json(200, "{\"data\":[]}"));
            java.nio.file.Path f = java.nio.file.Files.writeString(dir.resolve("egress.yaml"), config("auto", https(api.port())));
            var r = io.modelegress.server.cli.MainTestAccess.run(java.util.Map.of(), "doctor", "--config", f.toString());
            assertEquals(0, r.code(), r.out() + r.err());
            assertTrue(r.out().contains("authenticated with ntlm (auto: ntlm"), r.out());
            assertFalse(r.out().contains(PASSWORD), r.out());
        }
    }

    @Test
    void aPlainHttpUpstreamIsTunnelledSoNtlmCanAuthenticateTheConnection() throws Exception {
        try (TestUpstream plain = new TestUpstream()) {
            String ups = "upstreams:\n  plain: { url: \"http://plain.test:" + plain.port() + "\" }\nroutes:\n  - { name: plain, prefix: /plain, upstreams: [plain] }\n";
            try (Sidecar s = Sidecar.start(config("ntlm", ups))) {
                HttpResponse<String> r = Http.get(s.url() + "/plain/v1/models");
                assertEquals(200, r.statusCode(), r.body());
                assertEquals("/plain/v1/models", plain.take().uri(), "origin-form through a CONNECT tunnel");
            }
        }
    }

    @Test
    void wrongSchemeForTheProxyIsProxyAuthRequiredNamingWhatItOffers() throws Exception {
        try (TestUpstream api = new TestUpstream(ProxyFailoverTest.upstreamTls)) {
            try (Sidecar s = Sidecar.start(config("negotiate", https(api.port())), java.util.Map.of())) {
                HttpResponse<String> r = Http.get(s.url() + "/api/v1/models");
                assertEquals(502, r.statusCode(), r.body());
                assertEquals("proxy_auth_required", r.headers().firstValue("x-egress-error").orElse(""));
            }
        }
    }
}
