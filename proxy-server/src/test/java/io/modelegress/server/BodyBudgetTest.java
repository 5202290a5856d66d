package io.modelegress.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.modelegress.server.testing.Http;
import io.modelegress.server.testing.RawHttp;
import io.modelegress.server.testing.Sidecar;
import io.modelegress.server.testing.TestConfig;
import io.modelegress.server.testing.TestUpstream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Request bodies are held whole (a retry resends them), so together they must stay inside a budget: past
 * {@code server.max_buffered_bytes} a new body is refused at once with 503 {@code overloaded}, and what was held is
 * given back exactly when its request ends.
 */
@Timeout(60)
class BodyBudgetTest {
    private static final int BODY = 200 * 1024;
    private final TestUpstream upstream = new TestUpstream();
    /** Requests the upstream holds unanswered, so their bodies stay held in the sidecar. */
    private final List<io.netty.channel.ChannelHandlerContext> stalled = new CopyOnWriteArrayList<>();
    private final Sidecar sidecar = TestConfig.config().server("max_buffered_bytes", "1MiB")
            .upstream("up", upstream.url()).route("r", "/v1", "up").start();

    BodyBudgetTest() throws Exception {
        upstream.script((ctx, req) -> stalled.add(ctx));
    }

    @AfterEach
    void tearDown() {
        sidecar.close();
        upstream.close();
    }

    private static String post(int size) {
        return "POST /v1/files HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: " + size
                + "\r\n\r\n" + "x".repeat(size);
    }

    private long held() { return sidecar.server.runtime().bodies().used(); }

    @Test
    void bodiesPastTheBudgetAreRefusedAtOnceAndTheBudgetComesBack() throws Exception {
        List<RawHttp> agents = new ArrayList<>();
        try {
            // Five bodies of 200 KiB fit in 1 MiB; they stay held while the upstream sits on them.
            for (int i = 0; i < 5; i++) agents.add(new RawHttp(sidecar.port()).send(post(BODY)));
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> stalled.size() == 5);
            assertEquals(5L * BODY, held());

            long t0 = System.nanoTime();
            try (RawHttp late = new RawHttp(sidecar.port())) {
                RawHttp.Response r = late.send(post(BODY)).read();
                assertEquals(503, r.status(), r.body());
                assertEquals("overloaded", r.header("x-egress-error"));
                assertEquals("1", r.header("retry-after"));
                assertEquals("true", r.header("x-should-retry"));
                assertTrue(r.body().contains("server.max_buffered_bytes"), r.body());
                assertTrue(System.nanoTime() - t0 < Duration.ofSeconds(5).toNanos(), "refused at once, not queued");
                // Refused by its Content-Length: the body is skipped and the connection still serves a small request.
                upstream.script(TestUpstream.json(200, "{}"));
                assertEquals(200, late.send(post(10)).read().status());
            }
            assertEquals(5, stalled.size(), "the refused body never reached the upstream");
            Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> held() == 5L * BODY);
        } finally {
            for (RawHttp a : agents) a.close();
        }
        // The agents went away: their requests end and give their share back.
        Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> held() == 0);
        assertEquals(200, Http.post(sidecar.url() + "/v1/files", "x".repeat(BODY)).statusCode());
        Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> held() == 0);
        assertTrue(Http.get(sidecar.adminUrl() + "/metrics").body().contains("egress_errors_total{code=\"overloaded\",route=\"r\"} 1.0"));
    }

    @Test
    void aChunkedBodyThatOutgrowsTheBudgetIsRefusedMidwayAndItsShareReturned() throws Exception {
        try (RawHttp agent = new RawHttp(sidecar.port())) {
            agent.send("POST /v1/files HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n");
            String chunk = Integer.toHexString(BODY) + "\r\n" + "y".repeat(BODY) + "\r\n";
            RawHttp.Response r = null;
            for (int i = 0; i < 8 && r == null; i++) {
                try {
                    agent.send(chunk);
                } catch (java.io.IOException closed) {
                    break;
                }
            }
            r = agent.read();
            assertEquals(503, r.status(), r.body());
            assertEquals("overloaded", r.header("x-egress-error"));
            assertTrue(agent.closedByPeer(), "a body refused mid-way cannot be resynchronised: the connection closes");
        }
        Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> held() == 0);
        assertEquals(0, stalled.size());
    }
}
