package io.modelegress.server.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.modelegress.server.testing.ChildSidecar;
import io.modelegress.server.testing.Http;
import io.modelegress.server.testing.TestConfig;
import io.modelegress.server.testing.TestUpstream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The real process, as Kubernetes drives it: SIGHUP reloads, SIGTERM drains and exits 0. */
class ProcessSignalsTest {
    @TempDir
    Path dir;

    /** Ignored signals are inherited, and the JVM leaves SIGHUP ignored: under {@code nohup mvn} the child cannot reload. */
    private static boolean hangupIgnoredHere() throws java.io.IOException {
        Path status = Path.of("/proc/self/status");
        if (!Files.exists(status)) return false;
        for (String line : Files.readAllLines(status)) {
            if (line.startsWith("SigIgn:")) return (Long.parseUnsignedLong(line.substring(7).trim(), 16) & 1L) != 0;
        }
        return false;
    }

    @Test
    void sighupReloadsAndSigtermExitsZero() throws Exception {
        Assumptions.assumeFalse(hangupIgnoredHere(), "this test's process ignores SIGHUP (started under nohup?), so its "
                + "child sidecar would too: run the build without nohup");
        try (TestUpstream a = new TestUpstream(); TestUpstream b = new TestUpstream()) {
            a.script(TestUpstream.json(200, "{\"from\":\"a\"}"));
            b.script(TestUpstream.json(200, "{\"from\":\"b\"}"));
            Function<String, String> cfg = url -> TestConfig.config().server("drain_timeout", "2s")
                    .upstream("up", url).route("r", "/v1", "up").yaml();
            Path file = Files.writeString(dir.resolve("egress.yaml"), cfg.apply(a.url()));
            Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Dmodelegress.reloadPollMillis=3600000", "-Dmodelegress.logging=builtin", "-cp", System.getProperty("java.class.path"),
                    "io.modelegress.server.cli.Main", "--config", file.toString())
                    .redirectErrorStream(true).start();
            try {
                String line = ChildSidecar.listeningLine(p, Duration.ofSeconds(20));
                Matcher m = Pattern.compile("listening on /127.0.0.1:(\\d+) \\(admin /127.0.0.1:(\\d+)\\)").matcher(line);
                assertTrue(m.find(), line);
                String base = "http://127.0.0.1:" + m.group(1);
                assertEquals("{\"from\":\"a\"}", Http.get(base + "/v1/x").body());

                Files.writeString(file, cfg.apply(b.url()));
                new ProcessBuilder("kill", "-HUP", Long.toString(p.pid())).start().waitFor(5, TimeUnit.SECONDS);
                try {
                    Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> Http.get(base + "/v1/x").body().contains("\"b\""));
                } catch (org.awaitility.core.ConditionTimeoutException e) {
                    throw new AssertionError("no answer from the reloaded upstream; the child said:\n" + ChildSidecar.output(p), e);
                }

                p.destroy(); // SIGTERM
                assertTrue(p.waitFor(20, TimeUnit.SECONDS), "exited after SIGTERM");
                assertEquals(0, p.exitValue());
            } finally {
                p.destroyForcibly();
            }
        }
    }

    @Test
    void underNohupTheSidecarSaysSighupWillNotReload() throws Exception {
        try (TestUpstream a = new TestUpstream()) {
            Path file = Files.writeString(dir.resolve("egress.yaml"),
                    TestConfig.config().upstream("up", a.url()).route("r", "/v1", "up").yaml());
            Process p = new ProcessBuilder("nohup", Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Dmodelegress.logging=builtin", "-cp", System.getProperty("java.class.path"),
                    "io.modelegress.server.cli.Main", "--config", file.toString())
                    .redirectErrorStream(true).start();
            try {
                ChildSidecar.listeningLine(p, Duration.ofSeconds(20));
                Awaitility.await().atMost(Duration.ofSeconds(5))
                        .until(() -> ChildSidecar.output(p).contains("SIGHUP is ignored by this process"));
            } finally {
                p.destroyForcibly();
            }
        }
    }
}
