package io.modelegress.server.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.modelegress.core.config.ConfigLoader;
import io.modelegress.server.ops.ConfigReloader;
import io.modelegress.server.server.EgressServer;
import io.modelegress.server.testing.Http;
import io.modelegress.server.testing.TestConfig;
import io.modelegress.server.testing.TestUpstream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

class HotReloadTest {
    @TempDir
    Path dir;
    private final TestUpstream a = new TestUpstream();
    private final TestUpstream b = new TestUpstream();
    private EgressServer server;
    private String base;
    private String admin;

    HotReloadTest() throws Exception {}

    @BeforeEach
    void fastPolling() {
        System.setProperty("modelegress.reloadPollMillis", "50");
    }

    @AfterEach
    void tearDown() {
        System.clearProperty("modelegress.reloadPollMillis");
        if (server != null) server.stop();
        a.close();
        b.close();
    }

    private String config(TestUpstream target) { return config(target, u -> { }); }

    private String config(TestUpstream target, Consumer<TestConfig.Upstream> upstream) {
        return TestConfig.config().server("drain_timeout", "5s")
                .upstream("up", target.url(), upstream).route("r", "/v1", "up").yaml();
    }

    private void start(Path file) throws Exception {
        server = new EgressServer(ConfigLoader.load(file, k -> null), Map.of(), file).start();
        base = "http://127.0.0.1:" + server.agentAddress().getPort();
        admin = "http://127.0.0.1:" + server.adminAddress().getPort();
    }

    private boolean reloadCounted(String result) throws Exception {
        return reloadCounted(result, 1);
    }

    private boolean reloadCounted(String result, int times) throws Exception {
        return Http.get(admin + "/metrics").body().contains("egress_config_reload_total{result=\"" + result + "\"} " + times + ".0");
    }

    /** The reloader's log lines, captured in memory for the test. */
    private static ListAppender<ILoggingEvent> captureReloaderLog() {
        Logger logger = (Logger) LoggerFactory.getLogger(ConfigReloader.class);
        ListAppender<ILoggingEvent> appender = new ListAppender<>();
        appender.start();
        logger.addAppender(appender);
        return appender;
    }

    private static boolean logged(ListAppender<ILoggingEvent> log, String... parts) {
        synchronized (log.list) {
            return log.list.stream().map(ILoggingEvent::getFormattedMessage)
                    .anyMatch(m -> java.util.Arrays.stream(parts).allMatch(m::contains));
        }
    }

    @Test
    void aChangedFileIsSwappedInAndInFlightRequestsFinishUnderTheOldOne() throws Exception {
        Path file = Files.writeString(dir.resolve("egress.yaml"), config(a));
        start(file);
        CountDownLatch slowArrived = new CountDownLatch(1);
        a.script((ctx, req) -> {
            slowArrived.countDown();
            ctx.executor().schedule(() -> TestUpstream.json(200, "{\"from\":\"a\"}").answer(ctx, req), 500, TimeUnit.MILLISECONDS);
        });
        b.script(TestUpstream.json(200, "{\"from\":\"b\"}"));
        CompletableFuture<String> slow = CompletableFuture.supplyAsync(() -> {
            try {
                return Http.get(base + "/v1/slow").body();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        assertTrue(slowArrived.await(5, TimeUnit.SECONDS));
        Files.writeString(file, config(b));
        Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> reloadCounted("ok"));
        assertEquals("{\"from\":\"b\"}", Http.get(base + "/v1/new").body());
        assertEquals("{\"from\":\"a\"}", slow.get(5, TimeUnit.SECONDS), "the in-flight request kept its upstream");
    }

    @Test
    void anInvalidNewConfigIsRejectedAndTheOldOneStays() throws Exception {
        Path file = Files.writeString(dir.resolve("egress.yaml"), config(a));
        start(file);
        a.script(TestUpstream.json(200, "{\"from\":\"a\"}"));
        Files.writeString(file, config(a).replace("prefix:", "prefx:"));
        Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> reloadCounted("rejected"));
        assertEquals("{\"from\":\"a\"}", Http.get(base + "/v1/x").body());
    }

    @Test
    void aWrongShapeIsRejectedLoggedAndCountedOnAFileChangeAndOnSighup() throws Exception {
        ListAppender<ILoggingEvent> log = captureReloaderLog();
        try {
            Path file = Files.writeString(dir.resolve("egress.yaml"), config(a));
            start(file);
            a.script(TestUpstream.json(200, "{\"from\":\"a\"}"));
            Files.writeString(file, "timeouts: [1, 2]\n" + config(a));
            Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> reloadCounted("rejected"));
            assertTrue(logged(log, "config reload (file change) rejected", "timeouts: got a list (expected: a mapping"),
                    () -> "log: " + log.list);
            server.reloadNow();
            Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> reloadCounted("rejected", 2));
            assertTrue(logged(log, "config reload (SIGHUP) rejected", file + ":1: timeouts: got a list"), () -> "log: " + log.list);
            assertEquals("{\"from\":\"a\"}", Http.get(base + "/v1/x").body(), "the old config stays");
        } finally {
            ((Logger) LoggerFactory.getLogger(ConfigReloader.class)).detachAppender(log);
        }
    }

    @Test
    void aConfigMapSymlinkSwapIsPickedUp() throws Exception {
        // Kubernetes mounts a ConfigMap as dir/egress.yaml -> ..data/egress.yaml, ..data -> ..<timestamp>/.
        Path v1 = Files.createDirectory(dir.resolve("..2026_11_25_01"));
        Files.writeString(v1.resolve("egress.yaml"), config(a));
        Files.createSymbolicLink(dir.resolve("..data"), v1.getFileName());
        Path file = Files.createSymbolicLink(dir.resolve("egress.yaml"), Path.of("..data", "egress.yaml"));
        start(file);
        a.script(TestUpstream.json(200, "{\"from\":\"a\"}"));
        b.script(TestUpstream.json(200, "{\"from\":\"b\"}"));
        assertEquals("{\"from\":\"a\"}", Http.get(base + "/v1/x").body());
        Path v2 = Files.createDirectory(dir.resolve("..2026_11_25_02"));
        Files.writeString(v2.resolve("egress.yaml"), config(b));
        Path tmp = Files.createSymbolicLink(dir.resolve("..data_tmp"), v2.getFileName());
        Files.move(tmp, dir.resolve("..data"), java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> reloadCounted("ok"));
        assertEquals("{\"from\":\"b\"}", Http.get(base + "/v1/x").body());
    }

    @Test
    void aRotatedCredentialFileIsUsedFromTheNextRequest() throws Exception {
        Path key = Files.writeString(dir.resolve("key"), "Bearer old-key\n");
        Path file = Files.writeString(dir.resolve("egress.yaml"),
                config(a, u -> u.authFile("Authorization", key)));
        start(file);
        Http.get(base + "/v1/x");
        assertEquals("Bearer old-key", a.take().header("authorization"));
        Files.writeString(key, "Bearer new-key\n");
        Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> {
            Http.get(base + "/v1/x");
            return "Bearer new-key".equals(a.take().header("authorization"));
        });
    }

    @Test
    void aCredentialFileRotatedToTwoLinesIsNeverSentAndRequestsGetCredentialInvalid() throws Exception {
        Path key = Files.writeString(dir.resolve("key"), "Bearer old-key\n");
        Path file = Files.writeString(dir.resolve("egress.yaml"),
                config(a, u -> u.authFile("Authorization", key)));
        start(file);
        Http.get(base + "/v1/x");
        assertEquals("Bearer old-key", a.take().header("authorization"));
        Files.writeString(key, "Bearer new-key\r\nX-Injected: 1\n");
        Awaitility.await().atMost(Duration.ofSeconds(5)).until(() ->
                "credential_invalid".equals(Http.get(base + "/v1/x").headers().firstValue("x-egress-error").orElse(null)));
        java.net.http.HttpResponse<String> r = Http.get(base + "/v1/x");
        assertEquals(500, r.statusCode(), r.body());
        assertTrue(r.body().contains(key.toString()), r.body());
        assertTrue(r.body().contains("upstream \\\"up\\\""), r.body());
        assertFalse(r.body().contains("new-key") || r.body().contains("Injected"), "the value leaked: " + r.body());
        assertEquals(0, a.receivedCount(), "nothing was sent upstream with the bad value");
    }
}
