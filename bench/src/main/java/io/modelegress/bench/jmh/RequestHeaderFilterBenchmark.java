package io.modelegress.bench.jmh;

import io.modelegress.core.route.AgentHeaders;
import io.modelegress.server.http.ErrorResponses;
import io.modelegress.server.http.HopByHop;
import io.modelegress.server.http.RequestHeaderFilter;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import java.util.List;
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

/**
 * The agent's headers made fit for the upstream (issue 20): {@link #copyAndStrip} is what {@code UpstreamRequests.build}
 * did before (copy every header, then remove each name that must not go upstream), {@link #filter} what it does now
 * ({@link RequestHeaderFilter}, one pass). Run with {@code -prof gc} and read {@code gc.alloc.rate.norm}:
 *
 * <pre>java -jar bench/target/benchmarks.jar RequestHeaderFilterBenchmark -prof gc</pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class RequestHeaderFilterBenchmark {
    /** sdk: what the OpenAI Python SDK sends (keep-alive only); proxied: Connection naming extra headers and Proxy-*. */
    @Param({"sdk", "proxied"})
    public String shape;

    private HttpHeaders headers;
    private final List<String> routeStrips = List.of();

    @Setup
    public void setUp() {
        headers = new DefaultHttpHeaders()
                .add("Host", "127.0.0.1:8080")
                .add("Accept", "application/json")
                .add("Content-Type", "application/json")
                .add("User-Agent", "OpenAI/Python 1.51.0")
                .add("X-Stainless-Lang", "python")
                .add("X-Stainless-Package-Version", "1.51.0")
                .add("X-Stainless-Os", "Linux")
                .add("X-Stainless-Arch", "x64")
                .add("X-Stainless-Runtime", "CPython")
                .add("X-Stainless-Retry-Count", "0")
                .add("Authorization", "Bearer sk-placeholder")
                .add("Content-Length", "1024")
                .add("Connection", "keep-alive")
                .add("x-request-id", "0123456789abcdef0123456789abcdef");
        if (shape.equals("proxied")) {
            headers.set("Connection", "keep-alive, x-hop-one, x-hop-two")
                    .add("x-hop-one", "1")
                    .add("x-hop-two", "2")
                    .add("Keep-Alive", "timeout=5")
                    .add("Proxy-Authorization", "Basic placeholder")
                    .add("proxy-x-trace", "abc")
                    .add("TE", "trailers")
                    .add("x-egress-timeout", "30s");
        }
    }

    @Benchmark
    public HttpHeaders copyAndStrip() {
        HttpHeaders h = headers.copy();
        HopByHop.strip(h);
        for (String name : AgentHeaders.ALWAYS) h.remove(name);
        for (String name : routeStrips) h.remove(name);
        h.remove(HttpHeaderNames.HOST).remove(HttpHeaderNames.EXPECT);
        HopByHop.removePrefixed(h, ErrorResponses.X_EGRESS_PREFIX);
        for (String name : AgentHeaders.CREDENTIALS) h.remove(name);
        return h;
    }

    @Benchmark
    public HttpHeaders filter() {
        return RequestHeaderFilter.forUpstream(headers, routeStrips, true);
    }
}
