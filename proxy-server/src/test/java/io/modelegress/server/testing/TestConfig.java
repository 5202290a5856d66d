package io.modelegress.server.testing;

import io.modelegress.core.config.ConfigLoader;
import io.modelegress.core.config.EgressConfig;
import io.modelegress.core.config.InvalidConfigException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The YAML a {@link Sidecar} starts from, written as code: {@code TestConfig.config().upstream("up", url)
 * .route("r", "/v1", "up").start()}. The result is plain YAML read by the real loader, so a key the loader does not
 * know fails the test the way it would fail an operator. Tests about YAML parsing itself keep their YAML text.
 * The server listens on loopback port 0 with no readiness grace and a short drain, as {@link Sidecar} defaults.
 */
public final class TestConfig {
    private final Map<String, Object> root = new LinkedHashMap<>();
    private final List<Object> routes = new ArrayList<>();

    private TestConfig() {
        server("listen", "127.0.0.1:0").server("admin", "127.0.0.1:0")
                .server("shutdown_delay", Duration.ZERO).server("drain_timeout", Duration.ofMillis(200));
        root.put("upstreams", new LinkedHashMap<String, Object>());
        root.put("routes", routes);
    }

    public static TestConfig config() { return new TestConfig(); }

    /** {@code server.<key>}, e.g. {@code server("max_request_body", "1KiB")}. */
    public TestConfig server(String key, Object value) { section("server").put(key, value); return this; }

    /** {@code timeouts.<key>}: the global default of one timeout. */
    public TestConfig timeout(String key, Object value) { section("timeouts").put(key, value); return this; }

    /** {@code retry.<key>}. */
    public TestConfig retry(String key, Object value) { section("retry").put(key, value); return this; }

    public TestConfig maxAttempts(int attempts) { return retry("max_attempts", attempts); }

    /** {@code retry.backoff: { base, max }}. */
    public TestConfig backoff(Object base, Object max) { return retry("backoff", ordered("base", base, "max", max)); }

    /** {@code proxy.use_environment: false}: HTTPS_PROXY and friends of the test's environment are ignored. */
    public TestConfig ignoreEnvironmentProxy() { return set("proxy.use_environment", false); }

    /** Any key by its dotted path, e.g. {@code set("dns.servers", List.of("127.0.0.1:53"))}. */
    public TestConfig set(String dottedPath, Object value) {
        String[] parts = dottedPath.split("\\.");
        Map<String, Object> at = root;
        for (int i = 0; i < parts.length - 1; i++) at = child(at, parts[i]);
        at.put(parts[parts.length - 1], value);
        return this;
    }

    public TestConfig upstream(String name, String url) { return upstream(name, url, u -> { }); }

    public TestConfig upstream(String name, String url, Consumer<Upstream> spec) {
        Upstream u = new Upstream(url);
        spec.accept(u);
        section("upstreams").put(name, u.keys);
        return this;
    }

    /** A route sending {@code prefix} to {@code upstreams}, in order. */
    public TestConfig route(String name, String prefix, String... upstreams) {
        return route(name, prefix, r -> r.upstreams(upstreams));
    }

    public TestConfig route(String name, String prefix, Consumer<Route> spec) {
        Route r = new Route(name, prefix);
        spec.accept(r);
        routes.add(r.keys);
        return this;
    }

    /** The YAML text, as an operator would write it. */
    public String yaml() {
        StringBuilder out = new StringBuilder();
        writeMap(out, root, 0);
        return out.toString();
    }

    /** The configuration the real loader makes of {@link #yaml()}; throws what it throws. */
    public EgressConfig load(Map<String, String> env) throws InvalidConfigException { return ConfigLoader.parse(yaml(), "test.yaml", env::get); }

    public Sidecar start() throws Exception { return Sidecar.start(yaml()); }

    public Sidecar start(Map<String, String> env) throws Exception { return Sidecar.start(yaml(), env); }

    @Override
    public String toString() { return yaml(); }

    /** The keys of one upstream. */
    public static final class Upstream {
        private final Map<String, Object> keys = new LinkedHashMap<>();

        private Upstream(String url) { keys.put("url", url); }

        /** The credential the sidecar injects; {@code value} may read the environment ({@code ${KEY}}). */
        public Upstream auth(String header, String value) { keys.put("auth", ordered("header", header, "value", value)); return this; }

        public Upstream authFile(String header, Object path) {
            keys.put("auth", ordered("header", header, "value_file", path.toString()));
            return this;
        }

        /** This upstream's override of one timeout. */
        public Upstream timeout(String key, Object value) { child(keys, "timeouts").put(key, value); return this; }

        public Upstream limit(String key, Object value) { child(keys, "limits").put(key, value); return this; }

        public Upstream breaker(int consecutiveFailures, Object cooldown) {
            keys.put("breaker", ordered("consecutive_failures", consecutiveFailures, "cooldown", cooldown));
            return this;
        }

        /** {@code inherit}, {@code direct} or a proxy URL. */
        public Upstream proxy(String proxy) { keys.put("proxy", proxy); return this; }

        public Upstream set(String key, Object value) { keys.put(key, value); return this; }
    }

    /** The keys of one route. */
    public static final class Route {
        private final Map<String, Object> keys = new LinkedHashMap<>();
        private final List<Object> upstreams = new ArrayList<>();

        private Route(String name, String prefix) {
            if (name != null) keys.put("name", name);
            keys.put("prefix", prefix);
            keys.put("upstreams", upstreams);
        }

        public Route upstreams(String... names) { upstreams.addAll(Arrays.asList(names)); return this; }

        /** The next upstream in the list, asked for {@code model} instead of the agent's. */
        public Route fallback(String upstream, String model) { upstreams.add(ordered("upstream", upstream, "model", model)); return this; }

        public Route dialect(String dialect) { keys.put("dialect", dialect); return this; }

        public Route stripPrefix() { keys.put("strip_prefix", true); return this; }

        public Route models(String... globs) { keys.put("models", List.of(globs)); return this; }

        public Route fallbackOn(String... conditions) { keys.put("fallback_on", List.of(conditions)); return this; }

        public Route stripRequestHeaders(String... names) { keys.put("strip_request_headers", List.of(names)); return this; }

        public Route timeout(String key, Object value) { child(keys, "timeouts").put(key, value); return this; }

        public Route set(String key, Object value) { keys.put(key, value); return this; }
    }

    private Map<String, Object> section(String name) { return child(root, name); }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> child(Map<String, Object> parent, String key) {
        return (Map<String, Object>) parent.computeIfAbsent(key, k -> new LinkedHashMap<String, Object>());
    }

    private static Map<String, Object> ordered(String k1, Object v1, String k2, Object v2) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put(k1, v1);
        m.put(k2, v2);
        return m;
    }

    @SuppressWarnings("unchecked")
    private static void writeMap(StringBuilder out, Map<String, Object> map, int indent) {
        for (Map.Entry<String, Object> e : map.entrySet()) {
            out.append(" ".repeat(indent)).append(key(e.getKey())).append(':');
            writeValue(out, e.getValue(), indent);
        }
    }

    @SuppressWarnings("unchecked")
    private static void writeValue(StringBuilder out, Object value, int indent) {
        if (value instanceof Map<?, ?> m) {
            if (m.isEmpty()) { out.append(" {}\n"); return; }
            out.append('\n');
            writeMap(out, (Map<String, Object>) m, indent + 2);
        } else if (value instanceof List<?> l) {
            if (l.isEmpty()) { out.append(" []\n"); return; }
            out.append('\n');
            for (Object item : l) {
                out.append(" ".repeat(indent + 2)).append('-');
                if (item instanceof Map<?, ?> m && !m.isEmpty()) {
                    // "- key: v" then the rest of the map under the first key's column
                    StringBuilder inner = new StringBuilder();
                    writeMap(inner, (Map<String, Object>) m, indent + 4);
                    out.append(' ').append(inner.substring(indent + 4));
                } else {
                    writeValue(out, item, indent + 2);
                }
            }
        } else {
            out.append(' ').append(scalar(value)).append('\n');
        }
    }

    private static String key(String k) {
        return k.matches("[A-Za-z0-9_.-]+") ? k : quote(k);
    }

    private static String scalar(Object v) {
        if (v == null) return "null";
        if (v instanceof Number || v instanceof Boolean) return v.toString();
        if (v instanceof Duration d) return quote(d.toMillis() + "ms");
        return quote(v.toString());
    }

    private static String quote(String s) {
        return '"' + s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n") + '"';
    }
}
