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
import io.netty.channel.EventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.concurrent.EventExecutor;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The cost of one fleet-shared check (issue 17 item 7): one script per reservation, sent and answered on the
 * asking event loop (no hand-off to Lettuce's threads and back), against a real redis-server.
 */
class FleetCheckPathTest {
    private static final int PER_LOOP = 100;
    private static final RateLimits FAR_ABOVE_THE_LOAD = new RateLimits(0, 60_000_000, 0, 1000, Duration.ofSeconds(30));

    @Test
    @Timeout(60)
    void aReservationIsOneScriptAnsweredOnTheAskingLoopWithoutLettuceThreads() throws Exception {
        Transport transport = Transport.best();
        assumeTrue(transport.socketChannel() == Transports.socketChannelClass(), "Lettuce's transport is not the server's");
        EventLoopGroup loops = transport.newGroup(2, "fleet-check");
        try (RedisServer redis = RedisServer.start()) {
            RedisFleet fleet = new RedisFleet(settings(redis), new EgressMetrics(), loops, transport.socketChannel());
            try {
                Awaitility.await().atMost(Duration.ofSeconds(10)).until(fleet::isUp);
                FleetBudget budget = fleet.budget("up", FAR_ABOVE_THE_LOAD);
                // Loads the script and warms the code path: a cold JVM on a busy machine may take longer than a command's timeout.
                for (int i = 0; i < 20; i++) budget.reserve(TokenCount.ZERO, 0).toCompletableFuture().get(5, TimeUnit.SECONDS);
                long before = commandsProcessed(redis.port());
                List<CompletableFuture<Boolean>> onAskingLoop = reserveFromEveryLoop(loops, budget);
                CompletableFuture.allOf(onAskingLoop.toArray(CompletableFuture[]::new)).get(20, TimeUnit.SECONDS);
                long commands = commandsProcessed(redis.port()) - before - 1; // the INFO that counted them
                for (CompletableFuture<Boolean> f : onAskingLoop) assertTrue(f.join(), "answered on another thread than the asking loop");
                // One script per reservation; the rest are heartbeats (one a second at most), not a second call per request.
                int reservations = onAskingLoop.size();
                assertTrue(commands >= reservations && commands <= reservations + 3, commands + " commands for " + reservations + " reservations");
                List<String> lettuceThreads = Thread.getAllStackTraces().keySet().stream().map(Thread::getName)
                        .filter(n -> n.startsWith("lettuce-")).toList();
                assertEquals(List.of(), lettuceThreads, "Lettuce's own event loops and executors run beside the server's");
            } finally {
                fleet.close();
                loops.shutdownGracefully(0, 1, TimeUnit.SECONDS).await(5, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    @Timeout(60)
    void theReservationsAskedInOneTurnOfALoopLeaveInOneWrite() throws Exception {
        Transport transport = Transport.best();
        assumeTrue(transport.socketChannel() == Transports.socketChannelClass(), "Lettuce's transport is not the server's");
        EventLoopGroup loops = transport.newGroup(1, "fleet-check");
        try (RedisServer redis = RedisServer.start()) {
            RedisFleet fleet = new RedisFleet(settings(redis), new EgressMetrics(), loops, transport.socketChannel());
            try {
                Awaitility.await().atMost(Duration.ofSeconds(10)).until(fleet::isUp);
                FleetBudget budget = fleet.budget("up", FAR_ABOVE_THE_LOAD);
                for (int i = 0; i < 20; i++) budget.reserve(TokenCount.ZERO, 0).toCompletableFuture().get(5, TimeUnit.SECONDS);
                long before = stat(redis.port(), "total_reads_processed");
                List<CompletableFuture<FleetAnswer>> answers = new ArrayList<>();
                loops.next().submit(() -> {
                    for (int i = 0; i < PER_LOOP; i++) answers.add(budget.reserve(TokenCount.ZERO, 0).toCompletableFuture());
                }).get(5, TimeUnit.SECONDS);
                CompletableFuture.allOf(answers.toArray(CompletableFuture[]::new)).get(20, TimeUnit.SECONDS);
                // One write of 100 scripts arrives in a read or a few; a write per script would take dozens.
                long reads = stat(redis.port(), "total_reads_processed") - before - 1; // the INFO's own read
                assertTrue(reads <= 6, reads + " reads by Redis for " + PER_LOOP + " scripts asked in one turn");
            } finally {
                fleet.close();
                loops.shutdownGracefully(0, 1, TimeUnit.SECONDS).await(5, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    @Timeout(60)
    void withLoopsOfAnotherTransportTheChecksRunOnLettucesOwnThread() throws Exception {
        Transport nio = new Transport("nio", NioIoHandler.newFactory(), NioServerSocketChannel.class,
                NioSocketChannel.class, NioDatagramChannel.class);
        assumeTrue(Transports.socketChannelClass() != NioSocketChannel.class, "Lettuce runs on NIO here: nothing to fall back from");
        EventLoopGroup loops = nio.newGroup(1, "fleet-check-nio");
        try (RedisServer redis = RedisServer.start()) {
            RedisFleet fleet = new RedisFleet(settings(redis), new EgressMetrics(), loops, nio.socketChannel());
            try {
                Awaitility.await().atMost(Duration.ofSeconds(10)).until(fleet::isUp);
                FleetBudget budget = fleet.budget("up", FAR_ABOVE_THE_LOAD);
                FleetAnswer a = budget.reserve(TokenCount.ZERO, TimeUnit.SECONDS.toNanos(1)).toCompletableFuture().get(5, TimeUnit.SECONDS);
                assertInstanceOf(FleetAnswer.Start.class, a);
            } finally {
                fleet.close();
                loops.shutdownGracefully(0, 1, TimeUnit.SECONDS).await(5, TimeUnit.SECONDS);
            }
        }
    }

    /** {@link #PER_LOOP} reservations asked from each loop; each future says whether its answer came on that loop. */
    private static List<CompletableFuture<Boolean>> reserveFromEveryLoop(EventLoopGroup loops, FleetBudget budget) {
        List<CompletableFuture<Boolean>> out = new ArrayList<>();
        for (EventExecutor loop : loops) {
            for (int i = 0; i < PER_LOOP; i++) {
                CompletableFuture<Boolean> f = new CompletableFuture<>();
                out.add(f);
                loop.execute(() -> budget.reserve(TokenCount.ZERO, TimeUnit.SECONDS.toNanos(1)).whenComplete((a, e) -> {
                    if (!(a instanceof FleetAnswer.Start)) f.completeExceptionally(new AssertionError("not a start: " + a, e));
                    else f.complete(loop.inEventLoop());
                }));
            }
        }
        return out;
    }

    private static ClusterSettings settings(RedisServer redis) {
        return new ClusterSettings(java.net.URI.create(redis.url()), null, "egress:", Duration.ofSeconds(2), false,
                Duration.ofSeconds(10));
    }

    /** One counter of INFO stats. */
    private static long stat(int port, String name) throws Exception {
        for (String line : info(port, "stats").split("\r\n")) {
            if (line.startsWith(name + ":")) return Long.parseLong(line.substring(name.length() + 1).trim());
        }
        throw new AssertionError("no " + name + " in INFO stats");
    }

    private static String info(int port, String section) throws Exception {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(5000);
            OutputStream out = s.getOutputStream();
            out.write(("INFO " + section + "\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII));
            int length = Integer.parseInt(in.readLine().substring(1)); // $<bytes>
            char[] body = new char[length];
            for (int read = 0; read < length; ) read += in.read(body, read, length - read);
            return new String(body);
        }
    }

    /** What the fleet's scripts call inside Redis: counted in the stats too, but no round trip. */
    private static final java.util.Set<String> INSIDE_SCRIPTS = java.util.Set.of("time", "get", "set", "del", "zadd",
            "zremrangebyscore", "zcard", "zrange", "zrem", "pexpire", "publish");

    /** The commands clients have sent so far (INFO commandstats, summed, without those run inside scripts). */
    private static long commandsProcessed(int port) throws Exception {
        long calls = 0;
        for (String line : info(port, "commandstats").split("\r\n")) {
            int at = line.indexOf("calls=");
            String command = line.startsWith("cmdstat_") ? line.substring(8, line.indexOf(':')) : "";
            if (!command.isEmpty() && at > 0 && !INSIDE_SCRIPTS.contains(command)) {
                calls += Long.parseLong(line.substring(at + 6, line.indexOf(',', at)));
            }
        }
        return calls;
    }
}
