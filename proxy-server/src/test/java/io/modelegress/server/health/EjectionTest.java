package io.modelegress.server.health;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.modelegress.server.testing.Http;
import io.modelegress.server.testing.Sidecar;
import io.modelegress.server.testing.TestUpstream;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Ejections on the wire: what one model's failures take out, and how fast a recovered upstream is back. */
class EjectionTest {
    private TestUpstream primary;
    private TestUpstream fallback;
    private Sidecar sidecar;

    @AfterEach
    void stop() {
        if (sidecar != null) sidecar.close();
        if (primary != null) primary.close();
        if (fallback != null) fallback.close();
    }

    private static String chat(String model) {
        return "{\"model\":\"" + model + "\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
    }

    private HttpResponse<String> post(String model) throws Exception {
        return Http.post(sidecar.url() + "/v1/chat/completions", chat(model));
    }

    private void start(String primaryExtra) throws Exception {
        fallback = new TestUpstream();
        fallback.script(TestUpstream.json(200, "{\"from\":\"fallback\"}"));
        sidecar = Sidecar.start("retry: { max_attempts: 3, backoff: { base: 1ms, max: 2ms } }\nupstreams:\n"
                + "  primary:\n    url: " + primary.url() + "\n" + primaryExtra
                + "  fallback:\n    url: " + fallback.url() + "\n"
                + "routes:\n  - { name: r, prefix: /v1, upstreams: [primary, fallback] }\n");
    }

    @Test
    @Timeout(30)
    void oneModelsFiveOhThreesLeaveAnotherModelOnTheSameUpstreamOnThePrimary() throws Exception {
        primary = new TestUpstream();
        AtomicInteger modelA = new AtomicInteger();
        primary.script((ctx, req) -> {
            boolean a = req.content().toString(java.nio.charset.StandardCharsets.UTF_8).contains("\"model\":\"a\"");
            if (a) modelA.incrementAndGet();
            TestUpstream.json(a ? 503 : 200, a ? "{\"error\":{\"message\":\"model a is overloaded\"}}" : "{\"from\":\"primary\"}").answer(ctx, req);
        });
        start("    breaker: { consecutive_failures: 2, cooldown: 30s }\n");
        for (int i = 0; i < 3; i++) {
            HttpResponse<String> r = post("a");
            assertEquals(200, r.statusCode(), r.body());
            assertTrue(r.body().contains("fallback"), r.body());
        }
        int reachedPrimary = modelA.get();
        HttpResponse<String> a = post("a");
        assertTrue(a.body().contains("fallback"), a.body());
        assertEquals(reachedPrimary, modelA.get(), "model a's pair is ejected: its requests go straight to the fallback");
        for (int i = 0; i < 3; i++) {
            HttpResponse<String> b = post("b");
            assertEquals(200, b.statusCode(), b.body());
            assertTrue(b.body().contains("primary"), "model b stays on the primary: " + b.body());
        }
        String metrics = Http.get(sidecar.adminUrl() + "/metrics").body();
        assertTrue(metrics.contains("egress_breaker_open{model=\"a\",upstream=\"primary\"} 1.0"), metrics);
        assertTrue(metrics.contains("egress_breaker_open{model=\"\",upstream=\"primary\"} 0.0"), metrics);
        String breakers = Http.get(sidecar.adminUrl() + "/debug/breakers").body().replaceAll("\\s", "");
        assertTrue(breakers.contains("{\"upstream\":\"primary\",\"model\":\"a\",\"state\":\"open\",\"reason\":\"status503\",\"since\":\""), breakers);
        assertTrue(breakers.contains("\"next_probe_by\":\"request\""), breakers);
        assertTrue(breakers.contains("{\"upstream\":\"primary\",\"model\":null,\"state\":\"closed\""), breakers);
    }

    @Test
    @Timeout(40)
    void aPrimaryDownAndThenHealthyCarriesTrafficWithinThreeSecondsOfRecovering() throws Exception {
        primary = new TestUpstream();
        AtomicBoolean healthy = new AtomicBoolean(false);
        AtomicInteger failedProbes = new AtomicInteger();
        primary.script((ctx, req) -> {
            if (!healthy.get()) {
                if (req.uri().equals("/v1/models")) failedProbes.incrementAndGet();
                ctx.close(); // down: every connection reset before an answer
                return;
            }
            TestUpstream.json(200, "{\"from\":\"primary\"}").answer(ctx, req);
        });
        // Without the health check the ejection lasts the cooldown (10 s, then 20 s, 30 s, ...).
        start("    auth: { header: Authorization, value: \"Bearer sk-health\" }\n"
                + "    breaker: { consecutive_failures: 2, cooldown: 10s }\n"
                + "    health: { path: /v1/models, interval: 2s, healthy_after: 1 }\n");
        for (int i = 0; i < 3; i++) assertTrue(post("m").body().contains("fallback"));
        // The outage goes on for a few probes; the claim is about the time after recovery.
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(50)).until(() -> failedProbes.get() >= 2);
        String breakers = Http.get(sidecar.adminUrl() + "/debug/breakers").body().replaceAll("\\s", "");
        assertTrue(breakers.contains("\"upstream\":\"primary\",\"model\":null,\"state\":\"open\",\"reason\":\"upstream_reset\""), breakers);
        assertTrue(breakers.contains("\"next_probe_by\":\"health_check\""), breakers);
        healthy.set(true);
        long recovered = System.nanoTime();
        await().atMost(Duration.ofSeconds(3)).pollInterval(Duration.ofMillis(100))
                .until(() -> post("m").body().contains("primary"));
        long ms = (System.nanoTime() - recovered) / 1_000_000;
        assertTrue(ms < 3000, "the primary carried traffic " + ms + " ms after recovering");
        boolean probeCarriedCredential = false;
        for (TestUpstream.Received r; primary.receivedCount() > 0; ) {
            r = primary.take();
            if (r.uri().equals("/v1/models") && "Bearer sk-health".equals(r.header("authorization"))) probeCarriedCredential = true;
        }
        assertTrue(probeCarriedCredential, "the health probe carries the upstream's credential");
    }
}
