package io.modelegress.bench.jmh;

import io.modelegress.core.proxy.NoProxy;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/** {@link NoProxy#match} against a corporate-sized NO_PROXY list, for a hit, a miss and IP literals. */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class NoProxyBenchmark {
    static final String NO_PROXY = ".svc.cluster.local, .cluster.local, .internal.example.com, metadata.google.internal,"
            + " 169.254.169.254, 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, fd00::/8, .corp.example.com:8443,"
            + " registry.example.com, .s3.amazonaws.com";

    /** host:port; the first misses (goes to the proxy), the others match at different depths. */
    @Param({"api.openai.com:443", "inference.ml.svc.cluster.local:8080", "10.1.2.3:443", "127.0.0.1:11434", "[fd00::1]:443"})
    public String target;

    private NoProxy noProxy;
    private String host;
    private int port;

    @Setup
    public void setUp() {
        noProxy = NoProxy.builder().addValidated("proxy.no_proxy", NO_PROXY).build();
        int colon = target.lastIndexOf(':');
        host = target.substring(0, colon);
        port = Integer.parseInt(target.substring(colon + 1));
    }

    @Benchmark
    public NoProxy.Match match() {
        return noProxy.match(host, port);
    }
}
