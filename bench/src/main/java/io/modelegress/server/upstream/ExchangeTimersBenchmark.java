package io.modelegress.server.upstream;

import io.modelegress.core.timeout.Deadline;
import io.netty.channel.embedded.EmbeddedChannel;
import java.time.Duration;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The timers of one ordinary exchange (issue 20): the request deadline, the response-headers limit, the body's idle
 * limit, then the end, on the exchange's own event loop (an EmbeddedChannel's: the caller is in it, as in the
 * server). In this package because {@link ExchangeTimers} is package-private. {@code -prof gc}: bytes per exchange.
 *
 * <pre>java -jar bench/target/benchmarks.jar ExchangeTimersBenchmark -prof gc</pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class ExchangeTimersBenchmark {
    private static final Deadline.Limit HEADERS = new Deadline.Limit(TimeUnit.SECONDS.toNanos(120), "timeouts.response_headers", Duration.ofSeconds(120));
    private static final Deadline.Limit IDLE = new Deadline.Limit(TimeUnit.SECONDS.toNanos(60), "timeouts.stream_idle", Duration.ofSeconds(60));
    private static final Runnable NOTHING = () -> { };
    private EmbeddedChannel channel;

    @Setup
    public void setUp() {
        channel = new EmbeddedChannel();
    }

    @TearDown
    public void tearDown() {
        channel.finishAndReleaseAll();
    }

    @Benchmark
    public ExchangeTimers ordinaryExchange() {
        ExchangeTimers t = new ExchangeTimers(channel.eventLoop(), () -> false);
        t.deadline(TimeUnit.SECONDS.toNanos(600), NOTHING);
        t.phase(HEADERS, NOTHING);
        t.phase(IDLE, NOTHING);
        t.cancelAll();
        return t;
    }
}
