package io.modelegress.bench.jmh;

import io.modelegress.core.ratelimit.Admission;
import io.modelegress.core.ratelimit.RateLimits;
import io.modelegress.core.ratelimit.TokenCount;
import io.modelegress.core.ratelimit.UpstreamLimiter;
import io.modelegress.core.time.Ticker;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What every request pays its upstream's limiter (issue 20): a start asked and granted, then the permit given back,
 * on an upstream without limits (the default: no lock while nothing holds starts), and under a request budget.
 * {@code -prof gc}: {@code gc.alloc.rate.norm} is the bytes per cycle.
 *
 * <pre>java -jar bench/target/benchmarks.jar UpstreamLimiterBenchmark -prof gc</pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class UpstreamLimiterBenchmark {
    private UpstreamLimiter limiter;
    private UpstreamLimiter budgeted;

    @Setup
    public void setUp() {
        limiter = new UpstreamLimiter("bench", RateLimits.unlimited(), Ticker.SYSTEM, (task, delayNanos) -> { });
        // A request budget far above what one thread can start: every start asks the bucket, under the lock.
        budgeted = new UpstreamLimiter("bench", new RateLimits(0, 6_000_000_000L, 0, 100, java.time.Duration.ofSeconds(30)),
                Ticker.SYSTEM, (task, delayNanos) -> { });
    }

    @Benchmark
    public boolean startAndRelease() {
        Admission a = limiter.submit(TokenCount.ZERO, UpstreamLimiter.NO_DEADLINE);
        return ((Admission.Granted) a).permit().release();
    }

    /** The same under {@code limits.requests_per_minute}: the locked path, with the bucket asked on every start. */
    @Benchmark
    public boolean startAndReleaseUnderARequestBudget() {
        Admission a = budgeted.submit(TokenCount.ZERO, UpstreamLimiter.NO_DEADLINE);
        return a instanceof Admission.Granted g && g.permit().release();
    }
}
