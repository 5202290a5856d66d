package io.modelegress.bench.jmh;

import io.modelegress.core.config.ConfigLoader;
import io.modelegress.core.config.RouteSettings;
import io.modelegress.core.route.Router;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
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
 * {@link Router#route} over ten routes of a realistic config, loaded through the real loader; and
 * {@link Router#upstreamPath} of the matched route with no base path (issue 20: no copy of the target then).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class RouterBenchmark {
    /** Ten routes: provider prefixes, a model-filtered pair on /v1, and a catch-all. */
    static final String CONFIG = """
            upstreams:
              openai: { url: "https://api.openai.com" }
              azure: { url: "https://example.openai.azure.com" }
              anthropic: { url: "https://api.anthropic.com" }
              local: { url: "http://127.0.0.1:11434" }
            routes:
              - { name: anthropic, prefix: /anthropic, strip_prefix: true, upstreams: [anthropic], dialect: anthropic }
              - { name: azure, prefix: /azure, strip_prefix: true, upstreams: [azure] }
              - { name: ollama, prefix: /ollama, strip_prefix: true, upstreams: [local] }
              - { name: embeddings, prefix: /v1/embeddings, upstreams: [openai] }
              - { name: audio, prefix: /v1/audio, upstreams: [openai] }
              - { name: files, prefix: /v1/files, upstreams: [openai] }
              - { name: messages, prefix: /v1/messages, upstreams: [anthropic], dialect: anthropic }
              - { name: claude-on-v1, prefix: /v1, models: ["claude-*"], upstreams: [anthropic] }
              - { name: openai, prefix: /v1, upstreams: [openai, azure] }
              - { name: default, prefix: /, upstreams: [local] }
            """;

    @Param({"/v1/chat/completions", "/anthropic/v1/messages", "/v1/embeddings", "/nothing/here"})
    public String path;

    private Router router;
    private RouteSettings matched;
    private final Supplier<String> model = () -> "gpt-4o-mini";

    @Setup
    public void setUp() throws Exception {
        router = new Router(ConfigLoader.parse(CONFIG, "RouterBenchmark", name -> null).routes());
        matched = router.route(path, model);
        if (matched == null) throw new IllegalStateException("no route for " + path);
    }

    @Benchmark
    public String upstreamPath() {
        return Router.upstreamPath(matched, "", path);
    }

    @Benchmark
    public RouteSettings route() {
        return router.route(path, model);
    }
}
