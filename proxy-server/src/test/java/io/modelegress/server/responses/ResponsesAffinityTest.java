package io.modelegress.server.responses;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.openai.client.OpenAIClient;
import com.openai.core.http.StreamResponse;
import com.openai.errors.InternalServerException;
import com.openai.models.responses.Response;
import com.openai.models.responses.ResponseCreateParams;
import com.openai.models.responses.ResponseStreamEvent;
import io.modelegress.server.testing.Http;
import io.modelegress.server.testing.Sdk;
import io.modelegress.server.testing.Sidecar;
import io.modelegress.server.testing.TestConfig;
import io.modelegress.server.testing.TestUpstream;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.LastHttpContent;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A stateful Responses API response lives on the account that made it: its follow-ups go back to that upstream,
 * and when it fails they are not failed over (the fallback could only answer 404); the agent gets the failure, and
 * the reason no fallback was tried. Real sockets: the OpenAI SDK or the JDK client, two scripted upstreams.
 */
@Timeout(60)
class ResponsesAffinityTest {
    private final TestUpstream primary = new TestUpstream();
    private final TestUpstream fallback = new TestUpstream();
    private final Sidecar sidecar = TestConfig.config().ignoreEnvironmentProxy().backoff("20ms", "50ms")
            .upstream("primary", primary.url()).upstream("fallback", fallback.url())
            .route("r", "/v1", "primary", "fallback").start();
    private final OpenAIClient sdk = Sdk.client(sidecar);
    /** The primary answers 503 to everything while this is set. */
    private final AtomicBoolean primaryDown = new AtomicBoolean();

    ResponsesAffinityTest() throws Exception {
        primary.script(backend("primary", primaryDown));
        fallback.script(backend("fallback", new AtomicBoolean()));
    }

    @AfterEach
    void tearDown() {
        sdk.close();
        sidecar.close();
        primary.close();
        fallback.close();
    }

    /**
     * A Responses API backend named {@code name}: a create answers a queued background response {@code resp_<name>_N}
     * (streamed when the body asks); a follow-up answers that response completed; 503 for everything while {@code down}.
     */
    private static TestUpstream.Script backend(String name, AtomicBoolean down) {
        int[] n = {0};
        return (ctx, req) -> {
            if (down.get()) {
                TestUpstream.json(503, "{\"error\":{\"message\":\"" + name + " is overloaded\",\"type\":\"server_error\"}}").answer(ctx, req);
                return;
            }
            String body = req.content().toString(java.nio.charset.StandardCharsets.UTF_8);
            String uri = req.uri();
            if (uri.equals("/v1/responses") && body.contains("\"stream\":true")) {
                streamed(ctx, "resp_" + name + "_" + ++n[0]);
            } else if (uri.equals("/v1/responses")) {
                TestUpstream.json(200, response("resp_" + name + "_" + ++n[0], "queued", name)).answer(ctx, req);
            } else {
                String id = uri.substring("/v1/responses/".length()).split("[/?]")[0];
                TestUpstream.json(200, response(id, "completed", name)).answer(ctx, req);
            }
        };
    }

    private static String response(String id, String status, String from) {
        return "{\"id\":\"" + id + "\",\"object\":\"response\",\"created_at\":1,\"status\":\"" + status + "\",\"background\":true,"
                + "\"model\":\"m\",\"output\":[],\"metadata\":{\"from\":\"" + from + "\"}}";
    }

    private static void streamed(ChannelHandlerContext ctx, String id) {
        TestUpstream.sseHead(ctx);
        TestUpstream.event(ctx, "event: response.created\ndata: {\"type\":\"response.created\",\"sequence_number\":0,"
                + "\"response\":{\"id\":\"" + id + "\",\"object\":\"response\",\"created_at\":1,\"model\":\"m\",\"output\":[],\"status\":\"in_progress\"}}\n\n");
        TestUpstream.event(ctx, "event: response.completed\ndata: {\"type\":\"response.completed\",\"sequence_number\":1,"
                + "\"response\":{\"id\":\"" + id + "\",\"object\":\"response\",\"created_at\":1,\"model\":\"m\",\"output\":[],\"status\":\"completed\"}}\n\n");
        ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
    }

    private Response createBackground() {
        return sdk.responses().create(ResponseCreateParams.builder().model("m").input("research this").background(true).build());
    }

    @Test
    void aBackgroundResponsePolledWhileItsUpstreamFailsIsNotSentToTheFallbackAndTheAgentGetsThePrimarysFailure() throws Exception {
        Response created = createBackground();
        assertEquals("resp_primary_1", created.id());
        primaryDown.set(true);

        InternalServerException e = assertThrows(InternalServerException.class, () -> sdk.responses().retrieve(created.id()));
        assertEquals(503, e.statusCode());
        assertTrue(e.getMessage().contains("primary is overloaded"), "the primary's own answer: " + e.getMessage());
        assertEquals("skipped (response resp_primary_1 lives on upstream \"primary\")",
                e.headers().values("x-egress-fallback").get(0));
        assertEquals(0, fallback.receivedCount(), "the fallback never saw the follow-up");
        assertEquals(1 + 3, primary.receivedCount(), "the create, then retry.max_attempts tries of the GET on the primary");
    }

    @Test
    void aFollowUpWhoseUpstreamRefusesConnectionsGetsOurErrorSayingWhyNoFallbackWasTried() throws Exception {
        Response created = createBackground();
        primary.close(); // connection refused from now on
        HttpResponse<String> r = Http.post(sidecar.url() + "/v1/responses/" + created.id() + "/cancel", "{}");
        assertEquals(502, r.statusCode(), r.body());
        assertEquals("upstream_connect_refused", r.headers().firstValue("x-egress-error").orElse(null));
        assertTrue(r.body().contains("response resp_primary_1 lives on upstream \\\"primary\\\"; no fallback was tried"), r.body());
        assertEquals(0, fallback.receivedCount());
    }

    @Test
    void aPreviousResponseIdFollowUpGoesWhereTheResponseWasMadeThoughTheRouteWouldPickThePrimary() throws Exception {
        primaryDown.set(true);
        Response created = createBackground(); // the primary fails: the create falls back, and lives there
        assertEquals("resp_fallback_1", created.id());
        primaryDown.set(false);
        int primarySaw = primary.receivedCount();

        Response next = sdk.responses().create(ResponseCreateParams.builder().model("m").input("go on")
                .previousResponseId(created.id()).build());
        assertEquals("resp_fallback_2", next.id(), "answered by the fallback, where the conversation lives");
        TestUpstream.Received got = takeLast(fallback, 2);
        assertTrue(got.body().contains("\"previous_response_id\":\"resp_fallback_1\""), got.body());
        HttpResponse<String> polled = Http.get(sidecar.url() + "/v1/responses/" + next.id() + "/input_items?limit=5");
        assertTrue(polled.body().contains("\"from\":\"fallback\""), polled.body());
        assertEquals(primarySaw, primary.receivedCount(), "the healthy primary was not asked");

        Response fresh = createBackground(); // no previous_response_id: the route's order again
        assertEquals("resp_primary_1", fresh.id());
    }

    @Test
    void theIdOfAStreamedCreateIsLearnedFromItsResponseCreatedEvent() throws Exception {
        String id = null;
        try (StreamResponse<ResponseStreamEvent> s = sdk.responses().createStreaming(
                ResponseCreateParams.builder().model("m").input("stream it").build())) {
            for (ResponseStreamEvent e : (Iterable<ResponseStreamEvent>) s.stream()::iterator) {
                if (e.isCompleted()) id = e.asCompleted().response().id();
            }
        }
        assertEquals("resp_primary_1", id);
        primaryDown.set(true);
        HttpResponse<String> r = Http.get(sidecar.url() + "/v1/responses/" + id);
        assertEquals(503, r.statusCode());
        assertTrue(r.headers().firstValue("x-egress-fallback").orElse("").contains("resp_primary_1"));
        assertEquals(0, fallback.receivedCount());
    }

    @Test
    void anIdTheSidecarNeverSawRoutesAsAnyRequestAndFallsBack() throws Exception {
        primaryDown.set(true);
        HttpResponse<String> r = Http.get(sidecar.url() + "/v1/responses/resp_made_elsewhere");
        assertEquals(200, r.statusCode());
        assertTrue(r.body().contains("\"from\":\"fallback\""), r.body());
        assertNull(r.headers().firstValue("x-egress-fallback").orElse(null));
    }

    @Test
    void aDeletedResponseIsForgottenSoItsIdNoLongerPins() throws Exception {
        Response created = createBackground();
        HttpResponse<String> deleted = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create(sidecar.url() + "/v1/responses/" + created.id())).DELETE().timeout(Duration.ofSeconds(20)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, deleted.statusCode());
        primaryDown.set(true);
        HttpResponse<String> r = Http.get(sidecar.url() + "/v1/responses/" + created.id());
        assertTrue(r.body().contains("\"from\":\"fallback\""), "routed as an unknown id: " + r.body());
    }

    @Test
    void aFollowUpWhoseUpstreamIsEjectedIsRefusedAtOnceNamingItNotSentToTheFallback() throws Exception {
        try (Sidecar s = TestConfig.config().ignoreEnvironmentProxy().maxAttempts(1)
                .upstream("primary", primary.url(), u -> u.breaker(1, "30s")).upstream("fallback", fallback.url())
                .route("r", "/v1", "primary", "fallback").start()) {
            HttpResponse<String> created = Http.post(s.url() + "/v1/responses", "{\"model\":\"m\",\"background\":true}");
            assertTrue(created.body().contains("resp_primary_1"), created.body());
            primaryDown.set(true);
            assertEquals(503, Http.get(s.url() + "/v1/responses/resp_primary_1").statusCode()); // ejects the primary
            HttpResponse<String> r = Http.get(s.url() + "/v1/responses/resp_primary_1");
            assertEquals("upstream_unavailable", r.headers().firstValue("x-egress-error").orElse(null), r.body());
            assertTrue(r.body().contains("the upstream this request must go to is ejected by its circuit breaker"), r.body());
            assertTrue(r.body().contains("no fallback was tried"), r.body());
            assertEquals(2, primary.receivedCount(), "the create and the GET that ejected it");
            assertEquals(0, fallback.receivedCount());
        }
    }

    @Test
    void theRememberedIdsAreAGaugeOnTheAdminPort() throws Exception {
        createBackground();
        createBackground();
        String metrics = Http.get(sidecar.adminUrl() + "/metrics").body();
        assertTrue(metrics.contains("egress_responses_remembered 2.0"), metrics);
        assertTrue(metrics.contains("# HELP egress_responses_remembered Stateful Responses API ids"), metrics);
    }

    @Test
    void aReloadKeepsTheIdsUnlessTheirBlockChanged(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        java.nio.file.Path file = dir.resolve("egress.yaml");
        TestConfig cfg = TestConfig.config().ignoreEnvironmentProxy().backoff("20ms", "50ms")
                .upstream("primary", primary.url()).upstream("fallback", fallback.url()).route("r", "/v1", "primary", "fallback");
        java.nio.file.Files.writeString(file, cfg.yaml());
        var server = new io.modelegress.server.server.EgressServer(
                io.modelegress.core.config.ConfigLoader.load(file, k -> null), java.util.Map.of(), file).start();
        String url = "http://127.0.0.1:" + server.agentAddress().getPort();
        try {
            Http.post(url + "/v1/responses", "{\"model\":\"m\"}");
            var before = server.runtime();
            java.nio.file.Files.writeString(file, cfg.timeout("stream_idle", "61s").yaml());
            server.reloadNow();
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> server.runtime() != before);
            primaryDown.set(true);
            assertEquals(503, Http.get(url + "/v1/responses/resp_primary_1").statusCode(), "still pinned after the reload");
            assertEquals(0, fallback.receivedCount());

            var second = server.runtime();
            java.nio.file.Files.writeString(file, cfg.server("responses_affinity", java.util.Map.of("ttl", "1h")).yaml());
            server.reloadNow();
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> server.runtime() != second);
            assertEquals(200, Http.get(url + "/v1/responses/resp_primary_1").statusCode(), "a new map: routed as unknown");
            assertEquals(1, fallback.receivedCount());
        } finally {
            server.stop();
        }
    }

    /** The {@code n}th request {@code u} received (1-based), all taken. */
    private static TestUpstream.Received takeLast(TestUpstream u, int n) throws InterruptedException {
        TestUpstream.Received r = null;
        for (int i = 0; i < n; i++) r = u.take();
        return r;
    }
}
