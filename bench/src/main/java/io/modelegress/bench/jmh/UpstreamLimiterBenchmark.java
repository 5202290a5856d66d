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
 * on an upstream without limits (the default). {@code -prof gc}: {@code gc.alloc.rate.norm} is the bytes per cycle.
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

    @Setup
    public void setUp() {
        limiter = new UpstreamLimiter("bench", RateLimits.unlimited(), Ticker.SYSTEM, (task, delayNanos) -> { });
    }

    @Benchmark
    public boolean startAndRelease() {
        Admission a = limiter.submit(TokenCount.ZERO, UpstreamLimiter.NO_DEADLINE);
        return ((Admission.Granted) a).permit().release();
    }
}
