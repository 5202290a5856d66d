package io.modelegress.server.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.modelegress.server.testing.Http;
import io.modelegress.server.testing.RawHttp;
import io.modelegress.server.testing.Sidecar;
import io.modelegress.server.testing.SquidProxy;
import io.modelegress.server.testing.TestConfig;
import io.modelegress.server.testing.TestUpstream;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.pkitesting.CertificateBuilder;
import io.netty.pkitesting.X509Bundle;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The sidecar behind a real Squid with basic auth: CONNECT tunnels for https upstreams, absolute-form for plain
 * http, NO_PROXY going direct, a wrong password answered as {@code proxy_auth_required}, tunnels reused, and proxy
 * credentials kept away from the upstream. Squid's access log is the proxy's own account of what went through it.
 */
class SquidProxyTest {
    static final String USER = "agent-svc";
    static final String PASSWORD = "s3cret-Squid-pw";
    static final Duration LOG_WAIT = Duration.ofSeconds(10);

    static SquidProxy squid;
    static SslContext upstreamTls;
    static Path caBundle;
    @TempDir
    static Path dir;

    @BeforeAll
    static void startSquid() throws Exception {
        squid = SquidProxy.start(USER, PASSWORD, "api.test", "plain.test", "direct.test");
        X509Bundle ca = new CertificateBuilder().subject("CN=squid test CA").setIsCertificateAuthority(true)
                .algorithm(CertificateBuilder.Algorithm.ecp256).buildSelfSigned();
        X509Bundle leaf = new CertificateBuilder().subject("CN=api.test").addSanDnsName("api.test")
                .addSanDnsName("direct.test").algorithm(CertificateBuilder.Algorithm.ecp256).buildIssuedBy(ca);
        upstreamTls = SslContextBuilder.forServer(leaf.toKeyManagerFactory()).build();
        caBundle = dir.resolve("ca.pem");
        Files.writeString(caBundle, ca.getCertificatePEM());
    }

    @AfterAll
    static void stopSquid() {
        if (squid != null) squid.close();
    }

    /** {@code proxy} sets the whole proxy block; upstreams are {@code name -> url}, each on route {@code /name}. */
    static TestConfig config(Consumer<TestConfig> proxy, Map<String, String> upstreams) {
        TestConfig c = TestConfig.config();
        proxy.accept(c);
        c.set("tls.ca_bundle", caBundle).set("dns.hosts", Map.of("direct.test", "127.0.0.1")).maxAttempts(1);
        upstreams.forEach(c::upstream);
        upstreams.keySet().forEach(name -> c.route(name, "/" + name, name));
        return c;
    }

    static Consumer<TestConfig> explicitProxy(String password) {
        String url = squid.url(USER, password);
        return c -> c.ignoreEnvironmentProxy().set("proxy.https", url).set("proxy.http", url)
                .set("proxy.no_proxy", List.of("direct.test"));
    }

    static List<SquidProxy.Entry> connectsTo(String hostPort) {
        return squid.accessLog().stream().filter(e -> e.method().equals("CONNECT") && e.url().equals(hostPort)).toList();
    }

    @Test
    void tunnelsAnHttpsUpstreamThroughSquidWithBasicAuth() throws Exception {
        try (TestUpstream api = new TestUpstream(upstreamTls)) {
            api.script(TestUpstream.json(200, "{\"via\":\"tunnel\"}"));
            try (Sidecar s = config(explicitProxy(PASSWORD), Map.of("api", "https://api.test:" + api.port())).start()) {
                HttpResponse<String> r = Http.get(s.url() + "/api/v1/models");
                assertEquals(200, r.statusCode(), r.body());
                assertEquals("{\"via\":\"tunnel\"}", r.body());
                TestUpstream.Received got = api.take();
                assertEquals("api.test:" + api.port(), got.header("host"));
                assertNull(got.header("proxy-authorization"), "proxy credentials reached the upstream");
            }
            // Squid logs a CONNECT when its tunnel closes: the sidecar's stop closed it.
            String target = "api.test:" + api.port();
            squid.awaitAccessLog(LOG_WAIT, log -> !connectsTo(target).isEmpty());
            SquidProxy.Entry connect = connectsTo(target).get(0);
            assertEquals("TCP_TUNNEL/200", connect.status(), connect.line());
            assertEquals(USER, connect.user(), connect.line());
        }
    }

    @Test
    void proxyCredentialsCanComeFromAMountedFileInsteadOfTheUrl(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        java.nio.file.Path secret = java.nio.file.Files.writeString(dir.resolve("proxy-password"), PASSWORD + "\n");
        String bare = "http://127.0.0.1:" + squid.port();
        Consumer<TestConfig> proxy = c -> c.ignoreEnvironmentProxy().set("proxy.https", bare).set("proxy.http", bare)
                .set("proxy.auth", Map.of("username", USER, "password_file", secret.toString()));
        try (TestUpstream api = new TestUpstream(upstreamTls); TestUpstream plain = new TestUpstream()) {
            api.script(TestUpstream.json(200, "{}"));
            try (Sidecar s = config(proxy, Map.of("api", "https://api.test:" + api.port(),
                    "plain", "http://plain.test:" + plain.port())).start()) {
                assertEquals(200, Http.get(s.url() + "/api/v1/models").statusCode(), "CONNECT with the file's password");
                assertEquals(200, Http.get(s.url() + "/plain/v1/models").statusCode(), "absolute-form with the file's password");
                String explained = Http.get(s.adminUrl() + "/debug/proxy?url=https://api.test:" + api.port()).body();
                assertTrue(explained.contains(USER + ":***@127.0.0.1:" + squid.port()), explained);
                assertFalse(explained.contains(PASSWORD) || Http.get(s.adminUrl() + "/config").body().contains(PASSWORD));
            }
        }
    }

    @Test
    void sendsAPlainHttpUpstreamToSquidInAbsoluteForm() throws Exception {
        try (TestUpstream plain = new TestUpstream()) {
            try (Sidecar s = config(explicitProxy(PASSWORD), Map.of("plain", "http://plain.test:" + plain.port())).start()) {
                HttpResponse<String> r = Http.get(s.url() + "/plain/v1/models");
                assertEquals(200, r.statusCode(), r.body());
                TestUpstream.Received got = plain.take();
                assertEquals("/plain/v1/models", got.uri(), "Squid turns absolute-form into origin-form");
                assertEquals("plain.test:" + plain.port(), got.header("host"));
                assertTrue(String.valueOf(got.header("via")).contains("squid-test"), "not through Squid: " + got.headers());
            }
            String url = "http://plain.test:" + plain.port() + "/plain/v1/models";
            List<SquidProxy.Entry> log = squid.awaitAccessLog(LOG_WAIT, l -> l.stream().anyMatch(e -> e.url().equals(url)));
            SquidProxy.Entry get = log.stream().filter(e -> e.url().equals(url)).findFirst().orElseThrow();
            assertEquals("GET", get.method(), get.line());
            assertEquals(USER, get.user(), get.line());
            assertTrue(get.status().endsWith("/200"), get.line());
        }
    }

    @Test
    void noProxyHostGoesDirectPastSquid() throws Exception {
        try (TestUpstream secure = new TestUpstream(upstreamTls); TestUpstream plain = new TestUpstream()) {
            Map<String, String> ups = Map.of("secure", "https://direct.test:" + secure.port(), "plain", "http://direct.test:" + plain.port());
            try (Sidecar s = config(explicitProxy(PASSWORD), ups).start()) {
                assertEquals(200, Http.get(s.url() + "/secure/v1/models").statusCode());
                assertEquals(200, Http.get(s.url() + "/plain/v1/models").statusCode());
                assertNull(plain.take().header("via"), "a NO_PROXY'd request went through Squid");
                assertEquals(1, secure.accepted());
            }
            assertSquidNeverSaw("direct.test");
        }
    }

    @Test
    void wrongProxyPasswordIsProxyAuthRequiredAndNeverEchoed() throws Exception {
        String wrong = "not-the-Squid-pw";
        try (TestUpstream api = new TestUpstream(upstreamTls);
             Sidecar s = config(explicitProxy(wrong), Map.of("api", "https://api.test:" + api.port())).start()) {
            HttpResponse<String> r = Http.get(s.url() + "/api/v1/models");
            assertEquals(502, r.statusCode(), r.body());
            assertEquals("proxy_auth_required", r.headers().firstValue("x-egress-error").orElse(null), r.body());
            assertEquals("false", r.headers().firstValue("x-should-retry").orElse(null));
            assertTrue(r.body().contains("407 from proxy http://" + USER + ":***@127.0.0.1:" + squid.port()), r.body());
            assertTrue(r.body().contains("refused the credentials of user " + USER), r.body());
            assertTrue(r.body().contains("set proxy credentials (proxy.https or HTTPS_PROXY user:pass)"), r.body());
            assertFalse(r.body().contains(wrong), "the password is in the answer: " + r.body());
            assertFalse(r.headers().map().toString().contains(wrong), "the password is in a header: " + r.headers().map());
            assertEquals(0, api.accepted(), "no tunnel, so nothing reached the upstream");
        }
    }

    @Test
    void wrongProxyPasswordForAPlainHttpUpstreamIsProxyAuthRequiredToo() throws Exception {
        // Absolute-form: Squid's 407 arrives as the response to the request itself, not to a CONNECT.
        String wrong = "not-the-Squid-pw";
        try (TestUpstream plain = new TestUpstream();
             Sidecar s = config(explicitProxy(wrong), Map.of("plain", "http://plain.test:" + plain.port())).start()) {
            HttpResponse<String> r = Http.get(s.url() + "/plain/v1/models");
            assertEquals(502, r.statusCode(), r.body());
            assertEquals("proxy_auth_required", r.headers().firstValue("x-egress-error").orElse(null), r.body());
            assertTrue(r.body().contains("set proxy credentials"), r.body());
            assertFalse(r.body().contains(wrong), "the password is in the answer: " + r.body());
            assertEquals(0, plain.accepted());
        }
    }

    @Test
    void fiftySequentialRequestsReuseOneTunnel() throws Exception {
        try (TestUpstream api = new TestUpstream(upstreamTls)) {
            try (Sidecar s = config(explicitProxy(PASSWORD), Map.of("api", "https://api.test:" + api.port())).start()) {
                for (int i = 0; i < 50; i++) {
                    HttpResponse<String> r = Http.post(s.url() + "/api/v1/chat/completions", "{\"n\":" + i + "}");
                    assertEquals(200, r.statusCode(), "request " + i + ": " + r.body());
                }
                assertTrue(api.accepted() <= 2, "50 requests opened " + api.accepted() + " upstream connections");
            }
            // One log line per tunnel, written as the stopped sidecar's connections close.
            String target = "api.test:" + api.port();
            squid.awaitAccessLog(LOG_WAIT, log -> connectsTo(target).size() >= api.accepted());
            List<SquidProxy.Entry> connects = connectsTo(target);
            assertTrue(connects.size() <= 2, "50 requests made " + connects.size() + " CONNECTs: " + connects);
            assertTrue(connects.stream().allMatch(e -> e.status().equals("TCP_TUNNEL/200")),
                    "credentials are sent with the first CONNECT, never after a 407: " + connects);
        }
    }

    @Test
    void proxyCredentialsNeverReachTheUpstream() throws Exception {
        try (TestUpstream api = new TestUpstream(upstreamTls); TestUpstream plain = new TestUpstream()) {
            Map<String, String> ups = Map.of("api", "https://api.test:" + api.port(), "plain", "http://plain.test:" + plain.port());
            String agentProxyAuth = "Basic " + Base64.getEncoder().encodeToString("agent:guess".getBytes(StandardCharsets.UTF_8));
            try (Sidecar s = config(explicitProxy(PASSWORD), ups).start()) {
                for (String route : List.of("/api", "/plain")) {
                    // The agent's own Proxy-Authorization is for the sidecar's hop, not the upstream's either.
                    try (RawHttp raw = new RawHttp(s.port())) {
                        RawHttp.Response r = raw.send("GET " + route + "/v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                + "Proxy-Authorization: " + agentProxyAuth + "\r\nConnection: close\r\n\r\n").read();
                        assertEquals(200, r.status(), route + ": " + r.body());
                    }
                }
                for (TestUpstream up : List.of(api, plain)) {
                    TestUpstream.Received got = up.take();
                    assertNull(got.header("proxy-authorization"), "proxy credentials reached " + got.header("host"));
                    String all = got.headers().toString();
                    assertFalse(all.contains(PASSWORD) || all.contains(basic(USER, PASSWORD)) || all.contains(agentProxyAuth), all);
                }
            }
        }
    }

    @Test
    void usesHttpsProxyAndNoProxyFromTheEnvironment() throws Exception {
        try (TestUpstream api = new TestUpstream(upstreamTls); TestUpstream direct = new TestUpstream(upstreamTls)) {
            Map<String, String> ups = Map.of("api", "https://api.test:" + api.port(), "direct", "https://direct.test:" + direct.port());
            Map<String, String> env = Map.of("HTTPS_PROXY", squid.url(USER, PASSWORD), "NO_PROXY", "localhost,direct.test");
            try (Sidecar s = config(c -> c.set("proxy.use_environment", true), ups).start(env)) {
                assertEquals(200, Http.get(s.url() + "/api/v1/models").statusCode());
                assertEquals(200, Http.get(s.url() + "/direct/v1/models").statusCode());
                String reason = Http.get(s.adminUrl() + "/debug/proxy?url=https://direct.test:" + direct.port()).body();
                assertTrue(reason.contains("NO_PROXY") && reason.contains("direct.test"), reason);
            }
            String target = "api.test:" + api.port();
            squid.awaitAccessLog(LOG_WAIT, log -> !connectsTo(target).isEmpty());
            assertEquals(USER, connectsTo(target).get(0).user());
            assertSquidNeverSaw("direct.test");
        }
    }

    /**
     * Squid logs in the order transactions end. After the sidecar stopped (closing any tunnel it had), one more
     * request through Squid acts as a marker: once its line is there, a tunnel to {@code host} would be too.
     */
    static void assertSquidNeverSaw(String host) throws Exception {
        try (TestUpstream marker = new TestUpstream()) {
            String url = "http://plain.test:" + marker.port() + "/marker";
            try (RawHttp raw = new RawHttp(squid.port())) {
                RawHttp.Response r = raw.send("GET " + url + " HTTP/1.1\r\nHost: plain.test:" + marker.port() + "\r\n"
                        + "Proxy-Authorization: " + basic(USER, PASSWORD) + "\r\nConnection: close\r\n\r\n").read();
                assertEquals(200, r.status(), r.body());
            }
            List<SquidProxy.Entry> log = squid.awaitAccessLog(LOG_WAIT, l -> l.stream().anyMatch(e -> e.url().equals(url)));
            assertTrue(log.stream().noneMatch(e -> e.line().contains(host)), host + " went through Squid:\n"
                    + String.join("\n", log.stream().map(SquidProxy.Entry::line).toList()));
        }
    }

    static String basic(String user, String password) {
        return "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    }
}
