package io.modelegress.bench.jmh;

import io.modelegress.server.http.HopByHop;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * {@link HopByHop#strip} on the headers an SDK sends. Each call strips a fresh copy (strip mutates), so the copy is
 * measured too: {@link #copyOnly} is that baseline, to subtract.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class HopByHopBenchmark {
    /** sdk: a typical OpenAI SDK request (keep-alive only); proxied: Connection naming extra headers and Proxy-*. */
    @Param({"sdk", "proxied"})
    public String shape;

    private HttpHeaders headers;

    @org.openjdk.jmh.annotations.Setup
    public void setUp() {
        headers = new DefaultHttpHeaders()
                .add("host", "127.0.0.1:8080")
                .add("accept", "application/json")
                .add("content-type", "application/json")
                .add("user-agent", "OpenAI/Java 4.1.0")
                .add("x-stainless-lang", "java")
                .add("x-stainless-package-version", "4.1.0")
                .add("x-stainless-os", "Linux")
                .add("x-stainless-arch", "x64")
                .add("x-stainless-runtime", "JRE")
                .add("x-stainless-retry-count", "0")
                .add("authorization", "Bearer sk-placeholder")
                .add("content-length", "1024")
                .add("connection", "keep-alive");
        if (shape.equals("proxied")) {
            headers.set("connection", "keep-alive, x-hop-one, x-hop-two")
                    .add("x-hop-one", "1")
                    .add("x-hop-two", "2")
                    .add("keep-alive", "timeout=5")
                    .add("proxy-authorization", "Basic placeholder")
                    .add("proxy-x-trace", "abc")
                    .add("te", "trailers");
        }
    }

    @Benchmark
    public HttpHeaders strip() {
        HttpHeaders h = headers.copy();
        HopByHop.strip(h);
        return h;
    }

    @Benchmark
    public HttpHeaders copyOnly() {
        return headers.copy();
    }
}
