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
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Classes the sidecar process does not load, each worth its share of idle RSS (docs/benchmarks.md): Netty's JFR
 * events (off unless {@code -Dio.netty.jfr.enabled} asks) and logback's pattern machinery (the log lines are
 * written by {@link LogLayout}). Read from the real process's class-load log after it has served a request.
 */
class StartupFootprintTest {
    @TempDir
    Path dir;

    @Test
    void servesWithoutLoadingNettysJfrEventsOrLogbacksPatternParser() throws Exception {
        try (TestUpstream up = new TestUpstream()) {
            up.script(TestUpstream.json(200, "{\"ok\":true}"));
            Path file = Files.writeString(dir.resolve("egress.yaml"),
                    TestConfig.config().upstream("up", up.url()).route("r", "/v1", "up").yaml());
            Path classes = dir.resolve("classes.log");
            Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Xlog:class+load=info:file=" + classes, "-Dmodelegress.logging=builtin",
                    "-cp", System.getProperty("java.class.path"), "io.modelegress.server.cli.Main", "--config", file.toString())
                    .redirectErrorStream(true).start();
            try {
                String line = ChildSidecar.listeningLine(p, Duration.ofSeconds(20));
                // The application line is LogLayout's: time, level padded to 5, the logger's simple name.
                assertTrue(line.matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}\\S+ INFO  EgressServer - .*"), line);
                Matcher m = Pattern.compile("listening on /127.0.0.1:(\\d+)").matcher(line);
                assertTrue(m.find(), line);
                assertEquals("{\"ok\":true}", Http.get("http://127.0.0.1:" + m.group(1) + "/v1/x").body());
                p.destroy();
                assertTrue(p.waitFor(20, TimeUnit.SECONDS), "exited after SIGTERM");
            } finally {
                p.destroyForcibly();
            }
            List<String> loaded = Files.readAllLines(classes);
            assertTrue(loaded.stream().anyMatch(l -> l.contains(" io.netty.buffer.") && l.contains("Allocator ")), "the log names Netty's allocator");
            for (String absent : List.of(" io.netty.buffer.AllocateChunkEvent ", " jdk.jfr.EventType ",
                    " ch.qos.logback.classic.PatternLayout ", " ch.qos.logback.core.pattern.parser.Parser ")) {
                assertTrue(loaded.stream().noneMatch(l -> l.contains(absent)), absent.trim() + " was loaded");
            }
        }
    }
}
