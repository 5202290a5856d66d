package io.modelegress.bench;

import io.modelegress.core.config.ClusterSettings;
import io.modelegress.core.ratelimit.Admission;
import io.modelegress.core.ratelimit.RateLimits;
import io.modelegress.core.ratelimit.TokenCount;
import io.modelegress.core.ratelimit.UpstreamLimiter;
import io.modelegress.core.time.Ticker;
import io.modelegress.server.cluster.RedisFleet;
import io.modelegress.server.metrics.EgressMetrics;
import io.modelegress.server.runtime.Transport;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.EventExecutor;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.net.URI;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What one fleet-shared limit check costs, without HTTP around it: the sidecar's event loops each keep a window of
 * requests asking a shared-scope {@link UpstreamLimiter} for a start (one reservation script on Redis each), the
 * answer hops back to the asking loop as in the server, and the permit is released. Prints the check's latency
 * (submit to answer on the asking loop) and the process CPU per check, by thread group.
 *
 * <pre>java -cp bench.jar io.modelegress.bench.FleetCheckCost --redis redis://127.0.0.1:6379 [--checks 200000]
 *     [--window 8] [--threads 2]</pre>
 */
public final class FleetCheckCost {
    private FleetCheckCost() { }

    public static void main(String[] argv) throws Exception {
        CliArgs a = new CliArgs(argv, "redis", "checks", "window", "threads", "warmup");
        URI redis = URI.create(a.string("redis", "redis://127.0.0.1:6379"));
        int checks = a.integer("checks", 200_000);
        int warmup = a.integer("warmup", 100_000);
        int window = a.integer("window", 8);
        int threads = a.integer("threads", 2);
        Transport transport = Transport.best();
        EventLoopGroup loops = transport.newGroup(threads, "egress-io");
        ClusterSettings settings = new ClusterSettings(redis, null, "bench" + System.nanoTime() + ":",
                Duration.ofMillis(200), false, Duration.ofSeconds(10));
        RedisFleet fleet = System.getProperty("own") != null ? new RedisFleet(settings, new EgressMetrics(), loops.next())
                : new RedisFleet(settings, new EgressMetrics(), loops, transport.socketChannel());
        try {
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (!fleet.isUp() && System.nanoTime() < until) Thread.onSpinWait();
            if (!fleet.isUp()) throw new IllegalStateException("redis at " + redis + " does not answer");
            RateLimits limits = new RateLimits(0, 600_000_000L, 0, 100_000, Duration.ofSeconds(30));
            UpstreamLimiter limiter = new UpstreamLimiter("bench", limits, Ticker.SYSTEM,
                    (task, nanos) -> loops.next().schedule(task, nanos, TimeUnit.NANOSECONDS), fleet.budget("bench", limits));
            run(loops, limiter, warmup, window);
            ThreadMXBean mx = ManagementFactory.getThreadMXBean();
            Map<String, Long> before = cpuByGroup(mx);
            long t0 = System.nanoTime();
            long[] lat = run(loops, limiter, checks, window);
            long wall = System.nanoTime() - t0;
            Map<String, Long> after = cpuByGroup(mx);
            Arrays.sort(lat);
            long total = 0;
            StringBuilder groups = new StringBuilder();
            for (Map.Entry<String, Long> e : after.entrySet()) {
                long d = e.getValue() - before.getOrDefault(e.getKey(), 0L);
                if (d <= 0) continue;
                total += d;
                groups.append(' ').append(e.getKey()).append("_us_per_check=").append(String.format("%.2f", d / 1e3 / checks));
            }
            System.out.printf("FLEETCHECK checks=%d window=%d threads=%d checks_per_s=%.0f p50_us=%.0f p99_us=%.0f cpu_us_per_check=%.2f%s%n",
                    checks, window, threads, checks * 1e9 / wall, lat[lat.length / 2] / 1e3, lat[(int) (lat.length * 0.99)] / 1e3,
                    total / 1e3 / checks, groups);
        } finally {
            fleet.close();
            loops.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    /** {@code n} checks, {@code window} in flight per loop; returns each check's latency (ns). */
    private static long[] run(EventLoopGroup loops, UpstreamLimiter limiter, int n, int window) throws InterruptedException {
        long[] lat = new long[n];
        AtomicInteger issued = new AtomicInteger();
        int loopCount = 0;
        for (EventExecutor ignored : loops) loopCount++;
        CountDownLatch done = new CountDownLatch(loopCount * window);
        for (EventExecutor loop : loops) {
            for (int w = 0; w < window; w++) loop.execute(() -> next(loop, limiter, issued, lat, done));
        }
        if (!done.await(120, TimeUnit.SECONDS)) throw new IllegalStateException("checks did not finish in 120 s");
        return lat;
    }

    private static void next(EventExecutor loop, UpstreamLimiter limiter, AtomicInteger issued, long[] lat, CountDownLatch done) {
        int i = issued.getAndIncrement();
        if (i >= lat.length) {
            done.countDown();
            return;
        }
        long t0 = System.nanoTime();
        Admission ad = limiter.submit(TokenCount.ZERO, UpstreamLimiter.NO_DEADLINE);
        if (!(ad instanceof Admission.Queued q)) throw new IllegalStateException("expected a fleet check, got " + ad);
        q.ticket().outcome().whenCompleteAsync((outcome, err) -> {
            lat[i] = System.nanoTime() - t0;
            if (!(outcome instanceof Admission.Granted g)) throw new IllegalStateException("not granted: " + outcome, err);
            g.permit().release();
            next(loop, limiter, issued, lat, done);
        }, loop);
    }

    private static Map<String, Long> cpuByGroup(ThreadMXBean mx) {
        Map<String, Long> out = new HashMap<>();
        for (ThreadInfo ti : mx.getThreadInfo(mx.getAllThreadIds())) {
            if (ti == null) continue;
            long cpu = mx.getThreadCpuTime(ti.getThreadId());
            if (cpu < 0) continue;
            String name = ti.getThreadName().replaceAll("[-#]?\\d+(-\\d+)*$", "").replaceAll("\\W+", "_");
            out.merge(name, cpu, Long::sum);
        }
        return out;
    }
}
