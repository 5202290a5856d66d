package io.modelegress.server.events;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One access-log line (issue 20): the figures copied on the event loop ({@code copy}: all the loop still pays) and
 * the JSON built on the access log's thread ({@code build}, into a reused builder). In this package because
 * {@link AccessLine} is package-private. {@code -prof gc}: bytes per line.
 *
 * <pre>java -jar bench/target/benchmarks.jar AccessLineBenchmark -prof gc</pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class AccessLineBenchmark {
    private final StringBuilder b = new StringBuilder(512);
    private final AccessLine line = copy();
    private long n;

    @Benchmark
    public AccessLine copy() {
        return new AccessLine("0f9c2d7e5b8a4c1d9e3f6a2b7c4d8e1f", "POST", "/v1/chat/completions", "openai", "openai",
                "req_abc123", 200, null, 1, false, null, 0, 412_000 + (n++ & 7), 182_345_678, 190_001_234, 1024, 331,
                null, "h1", null);
    }

    @Benchmark
    public int build() {
        b.setLength(0);
        return line.appendTo(b).length();
    }
}
