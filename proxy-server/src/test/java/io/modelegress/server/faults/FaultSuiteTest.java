package io.modelegress.server.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.modelegress.server.testing.BlackHole;
import io.modelegress.server.testing.DeadPort;
import io.modelegress.server.testing.FakeDns;
import io.modelegress.server.testing.FaultServer;
import io.modelegress.server.testing.Http;
import io.modelegress.server.testing.Sidecar;
import io.modelegress.server.testing.TestConfig;
import io.modelegress.server.testing.TestUpstream;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * One test per way the network path fails before a response starts: the agent gets the specific code, in the
 * contract's JSON shape, within the configured limit plus a margin (measured, never slept).
 */
class FaultSuiteTest {
    static final Duration MARGIN = Duration.ofMillis(1500);
    /** Short limits for every phase, one attempt, no environment proxy; the fault tests add their upstream. */
    static TestConfig limits() {
        return TestConfig.config()
                .timeout("dns", "300ms").timeout("connect", "300ms").timeout("proxy_connect", "400ms")
                .timeout("tls_handshake", "400ms").timeout("response_headers", "500ms").timeout("stream_idle", "500ms")
                .maxAttempts(1).ignoreEnvironmentProxy();
    }

    record Timed(HttpResponse<String> response, Duration elapsed) {}

    static Timed timed(Callable<HttpResponse<String>> call) throws Exception {
        long t0 = System.nanoTime();
        HttpResponse<String> r = call.call();
        return new Timed(r, Duration.ofNanos(System.nanoTime() - t0));
    }

    static Sidecar sidecar(String upstreamUrl) throws Exception {
        return sidecar(limits(), upstreamUrl, u -> { });
    }

    /** {@code upstream}: more keys of the upstream (its own proxy, timeout overrides). */
    static Sidecar sidecar(TestConfig config, String upstreamUrl, Consumer<TestConfig.Upstream> upstream) throws Exception {
        return config.upstream("up", upstreamUrl, upstream).route("r", "/v1", "up").start();
    }

    /** Status, code, the OpenAI-shaped body naming what to check, and the answer within limit + margin. */
    static void assertError(Timed t, int status, String code, Duration limit, String... messageParts) {
        HttpResponse<String> r = t.response();
        assertEquals(status, r.statusCode(), r.body());
        assertEquals(code, r.headers().firstValue("x-egress-error").orElse(null), r.body());
        assertTrue(r.body().startsWith("{\"error\":{\"message\":\""), r.body());
        assertTrue(r.body().endsWith("\"type\":\"egress_error\",\"code\":\"" + code + "\",\"param\":null}}"), r.body());
        for (String part : messageParts) assertTrue(r.body().contains(part), "message lacks '" + part + "': " + r.body());
        assertTrue(r.headers().firstValue("x-should-retry").isPresent());
        assertTrue(t.elapsed().compareTo(limit.plus(MARGIN)) < 0, code + " took " + t.elapsed() + ", limit " + limit);
    }

    @Test
    void blackHoledUpstreamFailsAtTheConnectLimit() throws Exception {
        try (BlackHole hole = new BlackHole(); Sidecar s = sidecar("http://127.0.0.1:" + hole.port())) {
            Timed t = timed(() -> Http.get(s.url() + "/v1/models"));
            assertError(t, 504, "upstream_connect_timeout", Duration.ofMillis(300), "timed out after 300ms (timeouts.connect)",
                    "127.0.0.1:" + hole.port());
            assertTrue(t.elapsed().toMillis() >= 250, "fired early: " + t.elapsed());
        }
    }

    @Test
    void refusedPortFailsFastAsConnectRefused() throws Exception {
        try (DeadPort dead = new DeadPort(); Sidecar s = sidecar(dead.url())) {
            assertError(timed(() -> Http.get(s.url() + "/v1/models")), 502, "upstream_connect_refused", Duration.ZERO,
                    "refused the connection");
        }
    }

    @Test
    void nameThatDoesNotExistIsDnsResolutionFailed() throws Exception {
        try (FakeDns dns = FakeDns.nxdomain();
             Sidecar s = sidecar(limits().set("dns.servers", List.of("127.0.0.1:" + dns.port())), "http://no-such-model-host.invalid", u -> { })) {
            assertError(timed(() -> Http.get(s.url() + "/v1/models")), 502, "dns_resolution_failed", Duration.ofMillis(300),
                    "no-such-model-host.invalid does not resolve");
            assertTrue(dns.queries() > 0, "the configured DNS server was asked");
        }
    }

    @Test
    void resolverThatNeverAnswersIsDnsTimeoutNotAConnectTimeout() throws Exception {
        try (FakeDns dns = FakeDns.silent();
             Sidecar s = sidecar(limits().set("dns.servers", List.of("127.0.0.1:" + dns.port())), "http://model.example.test", u -> { })) {
            Timed t = timed(() -> Http.get(s.url() + "/v1/models"));
            assertError(t, 504, "dns_timeout", Duration.ofMillis(300), "DNS lookup of model.example.test got no answer");
            assertTrue(t.elapsed().toMillis() >= 250, "fired early: " + t.elapsed());
        }
    }

    @Test
    void proxyThatNeverAnswersConnectIsProxyConnectTimeout() throws Exception {
        try (FaultServer proxy = FaultServer.silent();
             Sidecar s = sidecar(limits(), "https://api.example.test", u -> u.proxy("http://127.0.0.1:" + proxy.port()))) {
            Timed t = timed(() -> Http.get(s.url() + "/v1/models"));
            assertError(t, 504, "proxy_connect_timeout", Duration.ofMillis(400), "did not answer CONNECT api.example.test:443",
                    "timeouts.proxy_connect");
        }
    }

    @Test
    void proxyAnswering407IsProxyAuthRequired() throws Exception {
        try (FaultServer proxy = FaultServer.replying("HTTP/1.1 407 Proxy Authentication Required\r\n"
                + "Proxy-Authenticate: Basic realm=\"corp\"\r\nContent-Length: 0\r\n\r\n");
             Sidecar s = sidecar(limits(), "https://api.example.test", u -> u.proxy("http://127.0.0.1:" + proxy.port()))) {
            assertError(timed(() -> Http.get(s.url() + "/v1/models")), 502, "proxy_auth_required", Duration.ZERO,
                    "407 from proxy http://127.0.0.1:" + proxy.port(), "set proxy credentials");
        }
    }

    @Test
    void proxyRefusingAUserNameAloneNeverEchoesItItMayBeAToken() throws Exception {
        try (FaultServer proxy = FaultServer.replying("HTTP/1.1 407 Proxy Authentication Required\r\n"
                + "Proxy-Authenticate: Basic realm=\"corp\"\r\nContent-Length: 0\r\n\r\n");
             Sidecar s = sidecar(limits(), "https://api.example.test", u -> u.proxy("http://tok-SECRET-42@127.0.0.1:" + proxy.port()))) {
            Timed t = timed(() -> Http.get(s.url() + "/v1/models"));
            assertError(t, 502, "proxy_auth_required", Duration.ZERO, "407 from proxy http://***@127.0.0.1:" + proxy.port());
            assertFalse(t.response().body().contains("tok-SECRET-42"), t.response().body());
        }
    }

    @Test
    void proxyAnsweringGarbageIsProxyRejected() throws Exception {
        try (FaultServer proxy = FaultServer.replying("SSH-2.0-OpenSSH_9.2\r\n");
             Sidecar s = sidecar(limits(), "https://api.example.test", u -> u.proxy("http://127.0.0.1:" + proxy.port()))) {
            assertError(timed(() -> Http.get(s.url() + "/v1/models")), 502, "proxy_rejected", Duration.ZERO, "proxy http://127.0.0.1:" + proxy.port());
        }
    }

    @Test
    void tlsServerThatNeverCompletesTheHandshakeIsTlsHandshakeTimeout() throws Exception {
        try (FaultServer silent = FaultServer.silent(); Sidecar s = sidecar("https://127.0.0.1:" + silent.port())) {
            Timed t = timed(() -> Http.get(s.url() + "/v1/models"));
            assertError(t, 504, "tls_handshake_timeout", Duration.ofMillis(400), "timeouts.tls_handshake");
            assertTrue(t.elapsed().toMillis() >= 350, "fired early: " + t.elapsed());
        }
    }

    @Test
    void upstreamThatNeverSendsHeadersIsUpstreamResponseTimeout() throws Exception {
        try (TestUpstream up = new TestUpstream(); Sidecar s = sidecar(up.url())) {
            up.script((ctx, req) -> { });
            Timed t = timed(() -> Http.post(s.url() + "/v1/chat/completions", "{}"));
            assertError(t, 504, "upstream_response_timeout", Duration.ofMillis(500), "sent no response headers within 500ms (timeouts.response_headers)");
            assertTrue(t.elapsed().toMillis() >= 450, "fired early: " + t.elapsed());
        }
    }

    @Test
    void agentTimeoutHeaderShortensTheDeadline() throws Exception {
        try (TestUpstream up = new TestUpstream(); Sidecar s = sidecar(up.url())) {
            up.script((ctx, req) -> { });
            Timed t = timed(() -> Http.post(s.url() + "/v1/chat/completions", "{}", "x-egress-timeout", "200ms"));
            assertError(t, 504, "request_deadline_exceeded", Duration.ofMillis(200), "x-egress-timeout");
        }
    }

    @Test
    void javaSdkAnnouncedTimeoutCapsTheWholeDeadline() throws Exception {
        try (TestUpstream up = new TestUpstream(); Sidecar s = sidecar(limits(), up.url(), u -> u.timeout("response_headers", "30s"))) {
            up.script((ctx, req) -> { });
            Timed t = timed(() -> Http.post(s.url() + "/v1/chat/completions", "{}", "X-Stainless-Timeout", "1", "X-Stainless-Lang", "java"));
            assertError(t, 504, "request_deadline_exceeded", Duration.ofMillis(1000), "the agent SDK's own timeout (x-stainless-timeout: 1)");
            assertAnsweredAheadOfTheAgent(t, 1000);
        }
    }

    @Test
    void sdkAnnouncedTimeoutIsAnsweredBeforeTheAgentGivesUp() throws Exception {
        try (TestUpstream up = new TestUpstream(); Sidecar s = sidecar(limits(), up.url(), u -> u.timeout("response_headers", "30s"))) {
            up.script((ctx, req) -> { });
            Timed t = timed(() -> Http.post(s.url() + "/v1/chat/completions", "{}", "X-Stainless-Timeout", "0.4"));
            assertError(t, 504, "request_deadline_exceeded", Duration.ofMillis(400), "x-stainless-timeout");
            assertTrue(t.response().body().contains("before the agent SDK's own timeout (x-stainless-timeout: 0.4) would give up"),
                    t.response().body());
        }
    }

    /**
     * The sidecar beat the agent: its own error arrived (not the client's timeout), from a deadline it says it set
     * ahead of the SDK's announced {@code agentMillis}. When the deadline fires against the agent's clock is a
     * fake-clock matter (core {@code SdkAnnouncedTimeoutTest}), not a race a loaded CI could lose.
     */
    private static void assertAnsweredAheadOfTheAgent(Timed t, long agentMillis) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("did not complete within (\\d+m?s|\\d+m) \\(the agent SDK's own timeout")
                .matcher(t.response().body());
        assertTrue(m.find(), t.response().body());
        long plannedMillis = io.modelegress.core.time.Durations.parseLenient(m.group(1)).toMillis();
        assertTrue(plannedMillis < agentMillis, "planned " + plannedMillis + "ms, the agent gives up at " + agentMillis + "ms");
    }
}
