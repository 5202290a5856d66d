package io.modelegress.server.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.modelegress.server.testing.ChildSidecar;
import io.modelegress.server.testing.RedisServer;
import io.modelegress.server.testing.Sidecar;
import io.modelegress.server.testing.TestUpstream;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** max_concurrent held for the fleet with leases: a replica killed with slots held gives them back within the lease TTL. */
class FleetConcurrencyTest {
    @TempDir
    Path dir;

    private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    private CompletableFuture<HttpResponse<String>> send(String base, String path) {
        return client.sendAsync(HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(30))
                .POST(HttpRequest.BodyPublishers.ofString("{}")).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    @Timeout(60)
    void aKilledReplicasConcurrencySlotsComeBackWithinTheLeaseTtl() throws Exception {
        try (RedisServer redis = RedisServer.start(); TestUpstream upstream = new TestUpstream()) {
            ConcurrentLinkedQueue<String> held = new ConcurrentLinkedQueue<>();
            AtomicLong okArrived = new AtomicLong();
            upstream.script((ctx, req) -> {
                if (req.uri().contains("/hold")) {
                    held.add(req.uri()); // never answered: the slot stays taken until its replica dies
                    return;
                }
                okArrived.compareAndSet(0, System.nanoTime());
                var r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK, Unpooled.copiedBuffer("{}".getBytes()));
                r.headers().setInt("content-length", 2);
                ctx.writeAndFlush(r);
            });
            String fleetYaml = "cluster:\n  redis: { url: \"" + redis.url() + "\" }\n  lease_ttl: 2s\n"
                    + "upstreams:\n  up:\n    url: " + upstream.url() + "\n"
                    + "    limits: { max_concurrent: 2, max_queue_wait: 20s, scope: shared }\n"
                    + "    timeouts: { response_headers: 60s }\n"
                    + "routes:\n  - { name: r, prefix: /v1, upstreams: [up] }\n";
            Path file = Files.writeString(dir.resolve("egress.yaml"),
                    "server: { listen: 127.0.0.1:0, admin: 127.0.0.1:0, shutdown_delay: 0s }\n" + fleetYaml);
            Process doomed = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Dmodelegress.reloadPollMillis=3600000", "-Dmodelegress.logging=builtin", "-cp", System.getProperty("java.class.path"),
                    "io.modelegress.server.cli.Main", "--config", file.toString()).redirectErrorStream(true).start();
            try (Sidecar survivor = Sidecar.start(fleetYaml)) {
                String base = "http://127.0.0.1:" + listeningPort(doomed);
                Awaitility.await().atMost(Duration.ofSeconds(10))
                        .until(() -> survivor.server.fleet().isUp() && survivor.server.fleet().replicas() == 2);
                send(base, "/v1/hold/1");
                send(base, "/v1/hold/2");
                Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> held.size() == 2);

                CompletableFuture<HttpResponse<String>> waiting = send(survivor.url(), "/v1/ok");
                // Both of the fleet's slots are the other replica's: this one waits.
                Awaitility.await().during(Duration.ofMillis(800)).atMost(Duration.ofSeconds(2)).until(() -> okArrived.get() == 0);

                doomed.destroyForcibly(); // SIGKILL: no release, no goodbye
                long killedAt = System.nanoTime();
                assertEquals(200, waiting.get(10, TimeUnit.SECONDS).statusCode());
                long back = okArrived.get() - killedAt;
                assertTrue(back < Duration.ofMillis(2000 + 1000).toNanos(),
                        "the slots came back " + back / 1_000_000 + " ms after the kill (lease_ttl 2s)");
            } finally {
                doomed.destroyForcibly();
                doomed.waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    private static int listeningPort(Process p) throws Exception {
        String line = ChildSidecar.listeningLine(p, Duration.ofSeconds(30));
        Matcher m = Pattern.compile("listening on /127.0.0.1:(\\d+)").matcher(line);
        assertTrue(m.find(), line);
        return Integer.parseInt(m.group(1));
    }
}
