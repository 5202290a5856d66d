package io.modelegress.server.upload;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.modelegress.server.testing.DigestUpstream;
import io.modelegress.server.testing.LoopbackPorts;
import io.modelegress.server.testing.MultipartUpload;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The memory bound for uploads, measured where an operator would: the sidecar runs as its own process (the
 * test's classpath, the image's flags: serial GC, a 64 MiB direct-memory cap) and its resident set is read from
 * {@code /proc/<pid>/status}. A 600 MB multipart upload passes through byte for byte while the peak RSS
 * ({@code VmHWM}, reset after warm-up through {@code clear_refs}) stays within 64 MiB of the idle RSS. The heap is
 * fixed and pre-touched, so the figure is what the upload adds; a body held on the heap would not fit in it, and
 * one held in direct memory would show in the RSS (or fail against the cap).
 */
@Timeout(180)
class UploadMemoryTest {
    private static final long MIB = 1 << 20;

    @Test
    void aSixHundredMegabyteUploadPassesWithTheSidecarsRssWithin64MiBOfIdle(@TempDir Path dir) throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isReadable(Path.of("/proc/self/status")), "needs Linux /proc");
        try (DigestUpstream up = new DigestUpstream()) {
            int port = LoopbackPorts.free();
            int admin = LoopbackPorts.free();
            Path config = dir.resolve("egress.yaml");
            Files.writeString(config, "server:\n  listen: 127.0.0.1:" + port + "\n  admin: 127.0.0.1:" + admin
                    + "\n  shutdown_delay: 0s\n  drain_timeout: 200ms\nproxy:\n  use_environment: false\n"
                    + "upstreams:\n  openai:\n    url: " + up.url() + "\n    auth: {header: authorization, value: Bearer sk-up}\n"
                    + "routes:\n  - prefix: /v1\n    upstreams: [openai]\n");
            List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-XX:+UseSerialGC", "-Xms96m", "-Xmx96m", "-XX:+AlwaysPreTouch", "-XX:MaxDirectMemorySize=64m",
                    "-XX:ActiveProcessorCount=2", "-cp", mainClassPath(),
                    "io.modelegress.server.cli.Main", "run", "--config", config.toString()));
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
            pb.environment().put("MODEL_EGRESS_ACCESS_LOG", "OFF");
            Process p = pb.start();
            try {
                CompletableFuture<Void> listening = new CompletableFuture<>();
                StringBuilder log = new StringBuilder();
                Thread drain = new Thread(() -> {
                    try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                        for (String line; (line = r.readLine()) != null; ) {
                            synchronized (log) { log.append(line).append('\n'); }
                            if (line.contains("model-egress listening on")) listening.complete(null);
                        }
                    } catch (Exception ignored) {
                        // the process ended
                    }
                    listening.completeExceptionally(new AssertionError("the sidecar exited: " + log));
                }, "sidecar-output");
                drain.setDaemon(true);
                drain.start();
                try {
                    listening.get(60, TimeUnit.SECONDS);
                } catch (java.util.concurrent.TimeoutException e) {
                    synchronized (log) { throw new AssertionError("the sidecar did not start within 60s: " + log); }
                }

                HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
                String url = "http://127.0.0.1:" + port + "/v1/files";
                // Warm-up: the code paths compiled, the pools and buffers the upload path uses allocated once.
                for (int i = 0; i < 2; i++) send(client, url, new MultipartUpload(64 * MIB), up);
                long idle = status(p.pid(), "VmRSS");
                boolean reset = resetPeak(p.pid());

                MultipartUpload big = new MultipartUpload(600_000_000L);
                long[] sampledPeak = {0};
                Thread sampler = new Thread(() -> {
                    while (!Thread.currentThread().isInterrupted()) {
                        try {
                            sampledPeak[0] = Math.max(sampledPeak[0], status(p.pid(), "VmRSS"));
                            TimeUnit.MILLISECONDS.sleep(20); // a sampling interval, not a wait for an event
                        } catch (Exception e) {
                            return;
                        }
                    }
                }, "rss-sampler");
                sampler.setDaemon(true);
                sampler.start();
                send(client, url, big, up);
                sampler.interrupt();
                sampler.join(5000);
                long peak = Math.max(sampledPeak[0], reset ? status(p.pid(), "VmHWM") : 0);
                String report = "idle RSS " + idle / MIB + " MiB, peak " + peak / MIB + " MiB during the 600 MB upload"
                        + (reset ? " (VmHWM reset after warm-up)" : " (sampled)");
                System.out.println("UploadMemoryTest: " + report);
                assertTrue(peak - idle < 64 * MIB, report);
            } finally {
                p.destroy();
                if (!p.waitFor(10, TimeUnit.SECONDS)) p.destroyForcibly();
            }
        }
    }

    private static void send(HttpClient client, String url, MultipartUpload body, DigestUpstream up) throws Exception {
        HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(120))
                .header("content-type", body.contentType()).POST(body.withLength()).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        DigestUpstream.Upload got = up.take(10);
        assertEquals(body.length(), got.bytes());
        assertEquals(body.sha256(), got.sha256());
        assertEquals("Bearer sk-up", got.header("authorization"));
    }

    /** The test's class path without the test classes: the sidecar's own logging config, as the jar has it. */
    private static String mainClassPath() {
        String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        return java.util.Arrays.stream(cp.split(java.io.File.pathSeparator)).filter(e -> !e.endsWith("test-classes"))
                .collect(java.util.stream.Collectors.joining(java.io.File.pathSeparator));
    }

    /** A {@code kB} line of {@code /proc/<pid>/status}, in bytes. */
    private static long status(long pid, String key) throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (line.startsWith(key + ":")) return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
        }
        throw new AssertionError(key + " not in /proc/" + pid + "/status");
    }

    /** Resets the peak resident set ({@code VmHWM}) to the current one; false where the kernel does not allow it. */
    private static boolean resetPeak(long pid) {
        try {
            Files.writeString(Path.of("/proc/" + pid + "/clear_refs"), "5");
            return true;
        } catch (Exception e) {
            return false;
        }
    }
}
