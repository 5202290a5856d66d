package io.modelegress.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.modelegress.server.testing.RawHttp;
import io.modelegress.server.testing.Sidecar;
import io.modelegress.server.testing.TestConfig;
import io.modelegress.server.testing.TestUpstream;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Issue 13 item 2: a dot path must never carry a route's injected credential outside the route's prefix. */
@Timeout(30)
class PathTraversalTest {
    private final TestUpstream upstream = new TestUpstream();
    private final Sidecar sidecar = TestConfig.config()
            .upstream("openai", upstream.url(), u -> u.auth("Authorization", "Bearer sk-real"))
            .upstream("azure", upstream.url() + "/base/deploy", u -> u.auth("api-key", "az-real"))
            .upstream("anthropic", upstream.url(), u -> u.auth("x-api-key", "ant-real"))
            .route("openai", "/v1", "openai")
            .route("azure", "/az", r -> r.stripPrefix().upstreams("azure"))
            .route("anthropic", "/anthropic", r -> r.stripPrefix().upstreams("anthropic").dialect("anthropic"))
            .start();

    PathTraversalTest() throws Exception {}

    @AfterEach
    void tearDown() {
        sidecar.close();
        upstream.close();
    }

    private RawHttp.Response post(String target) throws Exception {
        try (RawHttp raw = new RawHttp(sidecar.port())) {
            return raw.send("POST " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                    + "Content-Length: 2\r\n\r\n{}").read();
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            /az/../../other-deploy/chat          | azure
            /anthropic/../../x                   | anthropic
            /v1/%2e%2e/%2e%2e/x                  | openai
            /v1/..;/admin                        | openai
            /az/..%2F..%2Fother-deploy/chat      | azure
            /az/../v1/chat/completions           | azure
            """)
    void aPathThatLeavesItsRouteIsRefusedAndNothingReachesTheUpstream(String target, String route) throws Exception {
        RawHttp.Response resp = post(target);
        assertEquals(400, resp.status(), target);
        assertEquals("bad_request", resp.header("x-egress-error"));
        assertEquals("false", resp.header("x-should-retry"));
        assertTrue(resp.body().contains("was refused"), resp.body());
        assertFalse(resp.body().contains("real"), "no credential in the answer: " + resp.body());
        if (route.equals("anthropic")) assertTrue(resp.body().startsWith("{\"type\":\"error\""), "anthropic dialect: " + resp.body());
        else assertTrue(resp.body().contains("\"code\":\"bad_request\""), "openai dialect: " + resp.body());

        // The next request is the first the upstream ever sees: the refused one was never sent.
        assertEquals(200, post("/v1/models").status());
        assertEquals("/v1/models", upstream.take().uri());
        assertEquals(0, upstream.receivedCount());
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', textBlock = """
            /v1/a/../chat/completions?x=1   | /v1/chat/completions?x=1      | authorization | Bearer sk-real
            /v1//chat/./completions         | /v1/chat/completions          | authorization | Bearer sk-real
            /v1/%63hat/%2E/completions      | /v1/chat/completions          | authorization | Bearer sk-real
            /az/x/../chat/completions       | /base/deploy/chat/completions | api-key       | az-real
            /anthropic/v1/x/%2e%2e/messages | /v1/messages                  | x-api-key     | ant-real
            """)
    void aDotPathThatStaysInsideItsRouteReachesTheUpstreamNormalised(String target, String expected, String header,
                                                                    String credential) throws Exception {
        assertEquals(200, post(target).status(), target);
        TestUpstream.Received r = upstream.take();
        assertEquals(expected, r.uri());
        assertEquals(credential, r.header(header));
    }

    @Test
    void aRetriedAttemptCarriesTheNormalisedPathToo() throws Exception {
        AtomicInteger answered = new AtomicInteger();
        upstream.script((ctx, req) -> TestUpstream.json(answered.getAndIncrement() == 0 ? 503 : 200, "{}").answer(ctx, req));
        assertEquals(200, post("/az/a/./b/../chat").status());
        assertEquals("/base/deploy/a/chat", upstream.take().uri());
        assertEquals("/base/deploy/a/chat", upstream.take().uri());
    }
}
