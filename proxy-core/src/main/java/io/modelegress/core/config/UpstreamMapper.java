package io.modelegress.core.config;

import static io.modelegress.core.config.ConfigMapper.overrides;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigValue;
import io.modelegress.core.proxy.UpstreamProxy;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

/**
 * Maps the {@code upstreams} block, each entry over {@code upstream_defaults}: its URL, proxy, credential, limits,
 * breaker, timeouts, pool, probe, health check, resume strategy and HTTP/2 mode.
 */
final class UpstreamMapper {
    private UpstreamMapper() {}

    static Map<String, UpstreamSettings> upstreams(Section root, Config reference, Function<String, String> env) {
        Map<String, UpstreamSettings> out = new LinkedHashMap<>();
        ConfigObject obj = root.config.getObject("upstreams");
        Config template = reference.getConfig("upstream_defaults");
        for (Map.Entry<String, Config> e : ConfigLoader.entries(obj, template).entrySet()) {
            String name = e.getKey();
            if (e.getValue() == null) continue; // not a mapping: reported by ConfigSchema
            Section s = new Section(e.getValue(), "upstreams." + name + ".", root.problems());
            out.put(name, upstream(name, s, obj.get(name), env));
        }
        return out;
    }

    private static UpstreamSettings upstream(String name, Section s, ConfigValue raw, Function<String, String> env) {
        URI url = url(s, "url");
        String proxy = s.string("proxy");
        if (proxy == null || proxy.isBlank()) proxy = "inherit";
        try {
            UpstreamProxy.parse(name, proxy);
        } catch (IllegalArgumentException e) {
            s.problem("proxy", e.getMessage().replaceFirst("^upstreams\\.[^:]*\\.proxy: ", ""));
        }
        AuthSettings auth = null;
        if (s.has("auth")) {
            Section a = s.sub("auth");
            String header = a.string("header");
            String value = a.string("value");
            String file = a.string("value_file");
            if (header == null || header.isBlank() || !header.matches("[!#$%&'*+.^_`|~0-9A-Za-z-]+")) {
                a.problem("header", "\"" + HeaderText.printable(header) + "\" (expected: an HTTP header name, like Authorization)");
            }
            if ((value == null) == (file == null)) {
                a.problem(value == null ? "value" : "value_file", "expected exactly one of value or value_file");
            } else {
                SecretSource secret = file != null ? SecretSource.ofFile(Path.of(file)) : SecretSource.ofTemplate(value, env);
                // Checked here at load and reload; a file that turns bad later is refused per request (credential_invalid).
                if (secret.current().invalid()) a.problem(file != null ? "value_file" : "value", secret.current().missingReason());
                auth = new AuthSettings(header, secret);
            }
        }
        Section l = s.sub("limits");
        LimitSettings limits = new LimitSettings((int) l.integer("max_concurrent", 0),
                (int) l.integer("requests_per_minute", 0), l.integer("tokens_per_minute", 0),
                (int) l.integer("max_queue", 0), l.duration("max_queue_wait"), scope(l));
        Section b = s.sub("breaker");
        BreakerSettings breaker = new BreakerSettings((int) b.integer("consecutive_failures", 0), b.duration("cooldown"),
                b.duration("max_cooldown"));
        if (breaker.consecutiveFailures() > 0 && breaker.maxCooldown().compareTo(breaker.cooldown()) < 0) {
            b.problem("max_cooldown", breaker.maxCooldown() + " (expected: at least breaker.cooldown, " + breaker.cooldown() + ")");
        }
        Section p = s.sub("pool");
        PoolSettings pool = new PoolSettings((int) p.integer("max_idle", 0), p.duration("idle_timeout"), p.duration("max_lifetime"));
        String probe = s.string("probe");
        if (probe == null || !probe.startsWith("/")) s.problem("probe", "\"" + probe + "\" (expected: a path starting with /)");
        return new UpstreamSettings(name, url == null ? URI.create("http://invalid.invalid") : url, proxy, auth,
                limits, breaker, overrides(s.sub("timeouts")), pool, probe, health(s.sub("health")), resumeStrategy(s), http2(s));
    }

    private static final java.util.regex.Pattern EXPECTED_STATUS = java.util.regex.Pattern.compile("[1-5](\\d\\d|xx)");

    /** {@code upstreams.<name>.health}: off (HealthSettings.OFF's shape) unless a path is set. */
    private static HealthSettings health(Section h) {
        String path = h.string("path");
        if (path != null && !path.startsWith("/")) h.problem("path", "\"" + path + "\" (expected: a path starting with /, like /v1/models)");
        String method = h.string("method");
        if (method == null || !method.matches("[A-Z]+")) h.problem("method", "\"" + method + "\" (expected: an HTTP method like GET or HEAD)");
        Duration interval = h.duration("interval");
        if (interval.compareTo(Duration.ofMillis(100)) < 0) h.problem("interval", interval + " (expected: at least 100ms, like 2s)");
        long after = h.integer("healthy_after", 1);
        List<String> expected = h.strings("expected_status");
        if (expected.isEmpty()) h.problem("expected_status", "empty (expected: statuses or classes that pass, like [2xx] or [200, 404])");
        for (String e : expected) {
            if (!EXPECTED_STATUS.matcher(e).matches()) h.problem("expected_status", "\"" + e + "\" (expected: an HTTP status like 200 or a class like 2xx)");
        }
        return new HealthSettings(path, method == null ? "GET" : method, interval, (int) Math.min(after, 1000), expected);
    }

    private static LimitSettings.Scope scope(Section l) {
        String v = l.string("scope");
        if ("shared".equalsIgnoreCase(v)) return LimitSettings.Scope.SHARED;
        if (!"local".equalsIgnoreCase(v)) l.problem("scope", "\"" + v + "\" (expected: local or shared)");
        return LimitSettings.Scope.LOCAL;
    }

    private static URI url(Section s, String k) {
        String v = s.string(k);
        if (v == null) {
            s.problem(k, "missing (expected: an http:// or https:// URL, like https://api.openai.com)");
            return null;
        }
        try {
            URI u = new URI(v);
            String scheme = u.getScheme() == null ? "" : u.getScheme().toLowerCase(Locale.ROOT);
            if (!scheme.equals("http") && !scheme.equals("https") || u.getHost() == null || u.getRawQuery() != null
                    || u.getRawFragment() != null || u.getRawUserInfo() != null) {
                s.problem(k, "\"" + v + "\" (expected: an http:// or https:// URL with a host and no query, like https://api.openai.com)");
                return null;
            }
            return new URI(scheme, null, u.getHost(), u.getPort(), u.getPath(), null, null);
        } catch (URISyntaxException e) {
            s.problem(k, "\"" + v + "\" is not a URL (" + e.getReason() + "; expected: like https://api.openai.com)");
            return null;
        }
    }

    private static UpstreamSettings.Http2Mode http2(Section s) {
        String v = s.string("http2");
        if ("off".equalsIgnoreCase(v)) return UpstreamSettings.Http2Mode.OFF;
        if (!"auto".equalsIgnoreCase(v)) s.problem("http2", "\"" + v + "\" (expected: auto or off)");
        return UpstreamSettings.Http2Mode.AUTO;
    }

    private static ResumeSettings.Strategy resumeStrategy(Section s) {
        String v = s.string("resume_strategy");
        if ("prefill".equalsIgnoreCase(v)) return ResumeSettings.Strategy.PREFILL;
        if (!"replay".equalsIgnoreCase(v)) s.problem("resume_strategy", "\"" + v + "\" (expected: prefill or replay)");
        return ResumeSettings.Strategy.REPLAY;
    }
}
