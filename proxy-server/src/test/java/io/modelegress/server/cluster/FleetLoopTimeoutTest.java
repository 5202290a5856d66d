package io.modelegress.server.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.lettuce.core.resource.Transports;
import io.modelegress.core.config.ClusterSettings;
import io.modelegress.core.ratelimit.FleetAnswer;
import io.modelegress.core.ratelimit.FleetBudget;
import io.modelegress.core.ratelimit.RateLimits;
import io.modelegress.core.ratelimit.TokenCount;
import io.modelegress.server.metrics.EgressMetrics;
import io.modelegress.server.runtime.Transport;
import io.modelegress.server.testing.RedisServer;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code cluster.redis.timeout} with the fleet's connections on the sidecar's own loops, against a real
 * redis-server: a loop busy with other work is not a slow Redis, a Redis that stops answering is, and a 429 pause
 * that could not be written reaches the fleet once Redis answers again.
 */
class FleetLoopTimeoutTest {
    private static final Duration TIMEOUT = Duration.ofMillis(100);
    private static final RateLimits FAR_ABOVE_THE_LOAD = new RateLimits(0, 60_000_000, 0, 1000, Duration.ofSeconds(30));

    private RedisServer redis;
    private EventLoopGroup loops;
    private RedisFleet fleet;
    private FleetBudget budget;

    @BeforeEach
    void setUp() throws Exception {
        Transport transport = Transport.best();
        assumeTrue(transport.socketChannel() == Transports.socketChannelClass(), "Lettuce's transport is not the server's");
        redis = RedisServer.start();
        loops = transport.newGroup(1, "fleet-timeout");
        fleet = new RedisFleet(new ClusterSettings(java.net.URI.create(redis.url()), null, "egress:", TIMEOUT, false,
                Duration.ofSeconds(10)), new EgressMetrics(), loops, transport.socketChannel());
        Awaitility.await().atMost(Duration.ofSeconds(10)).until(fleet::isUp);
        budget = fleet.budget("up", FAR_ABOVE_THE_LOAD);
        // Warm the path: a cold JVM's first script may take longer than 100 ms on a busy machine.
        for (int i = 0; i < 20; i++) budget.reserve(TokenCount.ZERO, 0).toCompletableFuture().get(5, TimeUnit.SECONDS);
        Awaitility.await().atMost(Duration.ofSeconds(5)).until(fleet::isUp);
    }

    @AfterEach
    void tearDown() throws Exception {
        if (redis != null) redis.thaw();
        if (fleet != null) fleet.close();
        if (loops != null) loops.shutdownGracefully(0, 1, TimeUnit.SECONDS).await(5, TimeUnit.SECONDS);
        if (redis != null) redis.close();
    }

    @Test
    @Timeout(30)
    void aLoopBusyPastTheTimeoutRightAfterAskingStillGetsRedissAnswer() throws Exception {
        EventLoop loop = loops.next();
        CompletableFuture<FleetAnswer> answer = loop.submit(() -> {
            CompletableFuture<FleetAnswer> a = budget.reserve(TokenCount.ZERO, TimeUnit.SECONDS.toNanos(1)).toCompletableFuture();
            busyFor(4 * TIMEOUT.toMillis()); // a slow handler in the same turn: a cold class load, a big JSON
            return a;
        }).get(5, TimeUnit.SECONDS);
        assertInstanceOf(FleetAnswer.Start.class, answer.get(5, TimeUnit.SECONDS),
                "Redis answered at once; only the asking loop was busy");
        assertTrue(fleet.isUp(), "a busy loop marked Redis down");
    }

    @Test
    @Timeout(30)
    void aRedisThatStopsAnsweringIsATimeoutNearItsBoundAndMarksItDown() throws Exception {
        redis.freeze();
        long start = System.nanoTime();
        FleetAnswer a = loops.next().submit(() -> budget.reserve(TokenCount.ZERO, TimeUnit.SECONDS.toNanos(1)).toCompletableFuture())
                .get(5, TimeUnit.SECONDS).get(5, TimeUnit.SECONDS);
        long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertEquals(FleetAnswer.UNAVAILABLE, a);
        assertTrue(tookMs >= TIMEOUT.toMillis() - 5 && tookMs < 2 * TIMEOUT.toMillis() + 500, "answered after " + tookMs + " ms");
        assertTrue(!fleet.isUp(), "still up after a timeout");
        redis.thaw();
        Awaitility.await().atMost(Duration.ofSeconds(5)).until(fleet::isUp);
    }

    @Test
    @Timeout(30)
    void aPauseThatCouldNotBeWrittenReachesRedisOnceItAnswersAgain() throws Exception {
        redis.stop(); // gone: nothing written now can reach it
        Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> !fleet.isUp());
        loops.next().execute(() -> budget.pause(TimeUnit.SECONDS.toNanos(20)));
        redis.startAgain(); // empty: the pause is there only if it was sent again
        Awaitility.await().atMost(Duration.ofSeconds(10)).until(fleet::isUp);
        Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> pttl(redis.port(), fleet.key("up", "pause")) > 10_000);
    }

    private static void busyFor(long millis) {
        long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        while (System.nanoTime() < end) Thread.onSpinWait();
    }

    private static long pttl(int port, String key) throws Exception {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(5000);
            OutputStream out = s.getOutputStream();
            out.write(("PTTL " + key + "\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            String line = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII)).readLine();
            return Long.parseLong(line.substring(1)); // :<ms>, -2 when there is no such key
        }
    }
}
