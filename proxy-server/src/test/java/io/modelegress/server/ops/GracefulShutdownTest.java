package io.modelegress.server.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.modelegress.server.testing.Http;
import io.modelegress.server.testing.RawHttp;
import io.modelegress.server.testing.Sidecar;
import io.modelegress.server.testing.TestConfig;
import io.modelegress.server.testing.TestUpstream;
import io.netty.handler.codec.http.LastHttpContent;
import java.io.IOException;
import java.net.Socket;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** SIGTERM semantics, driven in-process through {@code EgressServer.stop()} (what the shutdown hook calls). */
class GracefulShutdownTest {
    private final TestUpstream upstream = new TestUpstream();
    private Sidecar sidecar;

    GracefulShutdownTest() throws Exception {}

    @AfterEach
    void tearDown() {
        if (sidecar != null) sidecar.close();
        upstream.close();
    }

    private void start(String delay, String drain) throws Exception {
        sidecar = TestConfig.config().server("shutdown_delay", delay).server("drain_timeout", drain)
                .upstream("up", upstream.url()).route("r", "/v1", "up").start();
    }

    /** An SSE stream of {@code n} chunks, one every {@code everyMs} (forever when n < 0). */
    private void streaming(int n, long everyMs) {
        upstream.script((ctx, req) -> {
            TestUpstream.sseHead(ctx);
            AtomicInteger sent = new AtomicInteger();
            ctx.executor().scheduleAtFixedRate(() -> {
                if (!ctx.channel().isActive()) return;
                int i = sent.incrementAndGet();
                if (n < 0 || i <= n) TestUpstream.event(ctx, "data: {\"i\":" + i + "}\n\n");
                if (i == n) {
                    TestUpstream.event(ctx, "data: [DONE]\n\n");
                    ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
                }
            }, 0, everyMs, TimeUnit.MILLISECONDS);
        });
    }

    @Test
    void inFlightStreamsFinishWhileTheSidecarDrains() throws Exception {
        start("300ms", "10s");
        streaming(8, 100);
        try (RawHttp raw = new RawHttp(sidecar.port())) {
            raw.send("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}");
            raw.readUntil("\"i\":1");
            CompletableFuture<Void> stopping = CompletableFuture.runAsync(sidecar.server::stop);
            Awaitility.await().atMost(Duration.ofSeconds(2)).until(() -> Http.get(sidecar.adminUrl() + "/readyz").statusCode() == 503);
            Awaitility.await().atMost(Duration.ofSeconds(3)).until(() -> refused(sidecar.port()));
            String rest = raw.readUntil("[DONE]");
            assertTrue(rest.contains("[DONE]"), "the stream completed: " + rest);
            assertFalse(rest.contains("shutting_down"));
            stopping.get(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void streamsStillRunningAtTheDrainDeadlineGetAnErrorEventAndEnd() throws Exception {
        start("0s", "300ms");
        streaming(-1, 50);
        try (RawHttp raw = new RawHttp(sidecar.port())) {
            raw.send("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}");
            raw.readUntil("\"i\":1");
            long t0 = System.nanoTime();
            CompletableFuture<Void> stopping = CompletableFuture.runAsync(sidecar.server::stop);
            String rest = raw.readUntil("0\r\n\r\n");
            assertTrue(rest.contains("\"code\":\"shutting_down\""), rest);
            assertTrue(rest.endsWith("0\r\n\r\n"), "the stream is ended, not cut: " + rest);
            stopping.get(10, TimeUnit.SECONDS);
            assertTrue((System.nanoTime() - t0) / 1_000_000 < 3000);
        }
    }

    @Test
    void requestsOnKeptAliveConnectionsDuringTheDelayAreServedWithConnectionClose() throws Exception {
        start("1s", "1s");
        upstream.script(TestUpstream.json(200, "{}"));
        try (RawHttp raw = new RawHttp(sidecar.port())) {
            assertEquals(200, raw.send("GET /v1/models HTTP/1.1\r\nHost: x\r\n\r\n").read().status());
            CompletableFuture<Void> stopping = CompletableFuture.runAsync(sidecar.server::stop);
            Awaitility.await().atMost(Duration.ofSeconds(2)).until(() -> Http.get(sidecar.adminUrl() + "/readyz").statusCode() == 503);
            RawHttp.Response r = raw.send("GET /v1/models HTTP/1.1\r\nHost: x\r\n\r\n").read();
            assertEquals(200, r.status());
            assertEquals("close", r.header("connection"));
            stopping.get(10, TimeUnit.SECONDS);
        }
        assertThrows(IOException.class, () -> new Socket("127.0.0.1", sidecar.port()).close());
    }

    private static boolean refused(int port) {
        try (Socket s = new Socket("127.0.0.1", port)) {
            return false;
        } catch (IOException e) {
            return true;
        }
    }
}
