package io.modelegress.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.modelegress.server.testing.RawHttp;
import io.modelegress.server.testing.Sidecar;
import io.modelegress.server.testing.TestConfig;
import io.modelegress.server.testing.TestUpstream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Issue 13 item 6: what the agent sends as a credential never reaches an upstream whose credential we inject. */
@Timeout(30)
class AgentCredentialsTest {
    /** Every header an agent (or its HTTP library's cookie jar) may carry a secret in. */
    private static final String AGENT_SECRETS = "Authorization: Bearer agent-dummy\r\nx-api-key: agent-dummy\r\n"
            + "api-key: agent-dummy\r\nx-goog-api-key: agent-dummy\r\nCookie: session=agent-dummy\r\n"
            + "Proxy-Authorization: Basic YWdlbnQ6ZHVtbXk=\r\nX-Agent-Session: agent-dummy\r\nX-Kept: yes\r\n";

    private final TestUpstream provider = new TestUpstream();
    private final TestUpstream local = new TestUpstream();
    private final Sidecar sidecar = TestConfig.config()
            .upstream("gemini", provider.url(), u -> u.auth("x-goog-api-key", "goog-real"))
            .upstream("openai", provider.url(), u -> u.auth("Authorization", "Bearer sk-real"))
            .upstream("local", local.url())
            .route("gemini", "/gemini", r -> r.stripPrefix().upstreams("gemini").stripRequestHeaders("X-Agent-Session"))
            .route("openai", "/v1", r -> r.upstreams("openai").stripRequestHeaders("X-Agent-Session"))
            .route("local", "/local", r -> r.stripPrefix().upstreams("local").stripRequestHeaders("x-agent-session"))
            .route("plain", "/plain", r -> r.stripPrefix().upstreams("local"))
            .start();

    AgentCredentialsTest() throws Exception {}

    @AfterEach
    void tearDown() {
        sidecar.close();
        provider.close();
        local.close();
    }

    private void post(String path) throws Exception {
        try (RawHttp raw = new RawHttp(sidecar.port())) {
            RawHttp.Response resp = raw.send("POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + AGENT_SECRETS
                    + "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}").read();
            assertEquals(200, resp.status(), resp.body());
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({
        "/gemini/v1beta/models/gemini-2.0-flash:generateContent, x-goog-api-key, goog-real",
        "/v1/chat/completions, authorization, Bearer sk-real",
    })
    void anUpstreamWithAnInjectedCredentialSeesNoneOfTheAgentsCredentials(String path, String injected, String value)
            throws Exception {
        post(path);
        TestUpstream.Received r = provider.take();
        assertEquals(java.util.List.of(value), r.headers().get(injected), "our credential replaces the agent's");
        for (String h : new String[] {"authorization", "x-api-key", "api-key", "x-goog-api-key", "cookie",
                "proxy-authorization", "x-agent-session"}) {
            if (!h.equals(injected)) assertNull(r.header(h), h + " reached the upstream");
        }
        assertEquals("yes", r.header("x-kept"), "other headers pass");
    }

    @Test
    void aPassThroughUpstreamKeepsTheAgentsOwnKeyButNeverItsCookieOrTheRoutesHeaders() throws Exception {
        post("/local/v1/chat/completions");
        TestUpstream.Received r = local.take();
        // No credential configured: the agent's key is its own credential for this upstream, so it passes.
        for (String h : new String[] {"authorization", "x-api-key", "api-key", "x-goog-api-key"}) {
            assertEquals(h.equals("authorization") ? "Bearer agent-dummy" : "agent-dummy", r.header(h), h);
        }
        assertNull(r.header("cookie"), "a cookie the agent holds for the sidecar's address may be any upstream's");
        assertNull(r.header("proxy-authorization"), "hop-by-hop");
        assertNull(r.header("x-agent-session"), "the route strips it");

        post("/plain/v1/chat/completions");
        assertEquals("agent-dummy", local.take().header("x-agent-session"), "only the route that lists it strips it");
    }
}
