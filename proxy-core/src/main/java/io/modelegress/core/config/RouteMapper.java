package io.modelegress.core.config;

import static io.modelegress.core.config.ConfigMapper.checkWords;
import static io.modelegress.core.config.ConfigMapper.overrides;
import static io.modelegress.core.config.ConfigMapper.retry;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import io.modelegress.core.route.AgentHeaders;
import io.modelegress.core.route.PathNormalizer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Maps the {@code routes} list, each entry over {@code route_defaults}: its prefix (normalised, unique with its
 * models), its upstreams (names that exist), fallback, dialect, timeouts, retry (over the global one), headers to
 * strip, hedge and resume.
 */
final class RouteMapper {
    private static final Set<String> FALLBACK_ON_WORDS = Set.of("connect_failure", "reset", "timeout", "5xx", "4xx",
            "context_length_exceeded");

    private RouteMapper() {}

    static List<RouteSettings> routes(Section root, Config reference, Map<String, UpstreamSettings> upstreams, Config globalRetry) {
        List<RouteSettings> out = new ArrayList<>();
        Config template = reference.getConfig("route_defaults");
        Map<String, String> seen = new HashMap<>();
        Set<String> names = new java.util.HashSet<>();
        int i = 0;
        for (ConfigValue v : ConfigLoader.list(root.config, "routes")) {
            String path = "routes[" + i++ + "].";
            if (v.valueType() != ConfigValueType.OBJECT) continue; // reported by ConfigSchema
            Section s = new Section(((ConfigObject) v).toConfig().withFallback(template), path, root.problems());
            String prefix = s.string("prefix");
            if (prefix == null || !prefix.startsWith("/")) {
                s.problem("prefix", (prefix == null ? "missing" : "\"" + prefix + "\"") + " (expected: a path starting with /, like /v1)");
                prefix = "/";
            }
            if (prefix.length() > 1 && prefix.endsWith("/")) prefix = prefix.substring(0, prefix.length() - 1);
            // Requests are routed on their normalised path: a prefix in any other form would never match.
            PathNormalizer.Result normal = PathNormalizer.normalize(prefix);
            if (normal instanceof PathNormalizer.Refused refused) {
                s.problem("prefix", "\"" + prefix + "\" is not a normalised path (" + refused.reason() + ")");
            } else if (!((PathNormalizer.Normalized) normal).pathAndQuery().equals(prefix)) {
                s.problem("prefix", "\"" + prefix + "\" is not a normalised path (expected: "
                        + ((PathNormalizer.Normalized) normal).path() + ")");
            }
            String name = s.string("name");
            if (name == null) name = prefix;
            if (!names.add(name)) s.problem("name", "\"" + name + "\" is used by another route (expected: unique names)");
            List<String> models = s.strings("models");
            String identity = prefix + " " + new TreeSet<>(models);
            String other = seen.putIfAbsent(identity, name);
            if (other != null) {
                s.problem("prefix", "\"" + prefix + "\" is also the prefix of route \"" + other + "\""
                        + (models.isEmpty() ? "" : " with the same models")
                        + " (expected: unique prefixes, or distinct models lists)");
            }
            List<RouteTarget> targets = targets(s, ((ConfigObject) v).toConfig(), upstreams, root.config.getObject("upstreams").keySet());
            List<String> fallbackOn = s.strings("fallback_on");
            checkWords(s, "fallback_on", fallbackOn, FALLBACK_ON_WORDS);
            String dialect = s.string("dialect");
            RouteSettings.Dialect d = RouteSettings.Dialect.OPENAI;
            if ("anthropic".equalsIgnoreCase(dialect)) d = RouteSettings.Dialect.ANTHROPIC;
            else if (!"openai".equalsIgnoreCase(dialect)) s.problem("dialect", "\"" + dialect + "\" (expected: openai or anthropic)");
            Section retry = new Section(s.config.getConfig("retry").withFallback(globalRetry), path + "retry.", root.problems());
            out.add(new RouteSettings(name, prefix, s.bool("strip_prefix"), models, targets, fallbackOn, d,
                    overrides(s.sub("timeouts")), retry(retry), headerNames(s, "strip_request_headers"),
                    s.duration("hedge_after"), resume(s.sub("resume")), s.bool("websocket"),
                    McpConfig.kind(s)));
        }
        return out;
    }

    private static ResumeSettings resume(Section r) {
        java.util.Set<ResumeSettings.Trigger> on = java.util.EnumSet.noneOf(ResumeSettings.Trigger.class);
        for (String w : r.strings("on")) {
            ResumeSettings.Trigger t = ResumeSettings.Trigger.of(w);
            if (t != null) {
                on.add(t);
                continue;
            }
            java.util.Set<String> words = new TreeSet<>(List.of("reset", "stream_idle", "inband_error"));
            String hint = DidYouMean.closest(w, words);
            r.problem("on", "\"" + w + "\"" + (hint != null ? " (did you mean \"" + hint + "\"?)" : "")
                    + " (expected: a list of " + words + ", or [] for off)");
        }
        long maxBuffer = r.bytes("max_buffer");
        if (maxBuffer < 1) r.problem("max_buffer", maxBuffer + " (expected: a size >= 1 byte, like 256KiB)");
        return new ResumeSettings(on, (int) r.integer("max", 0), maxBuffer);
    }

    private static List<String> headerNames(Section s, String key) {
        List<String> out = new ArrayList<>();
        for (String name : s.strings(key)) {
            if (AgentHeaders.isHeaderName(name)) out.add(name.toLowerCase(Locale.ROOT));
            else s.problem(key, "\"" + name + "\" is not a header name (expected: letters, digits and -, like x-agent-session)");
        }
        return out;
    }

    /** {@code declared}: every upstream name written, mapped or not (one that is not was reported already). */
    private static List<RouteTarget> targets(Section s, Config raw, Map<String, UpstreamSettings> upstreams, Set<String> declared) {
        List<RouteTarget> out = new ArrayList<>();
        List<ConfigValue> items = ConfigLoader.list(raw, "upstreams");
        if (items.isEmpty()) s.problem("upstreams", "missing (expected: a list of upstream names, like [openai])");
        int j = 0;
        for (ConfigValue item : items) {
            String k = "upstreams[" + j++ + "]";
            String name;
            String model = null;
            if (item.valueType() == ConfigValueType.STRING) {
                name = (String) item.unwrapped();
            } else if (item.valueType() == ConfigValueType.OBJECT) {
                Config c = ((ConfigObject) item).toConfig();
                name = c.hasPath("upstream") ? c.getValue("upstream").unwrapped().toString() : null;
                model = c.hasPath("model") ? c.getValue("model").unwrapped().toString() : null;
            } else {
                name = null;
            }
            if (name != null && !upstreams.containsKey(name) && declared.contains(name)) continue;
            if (name == null || !upstreams.containsKey(name)) {
                String hint = name == null ? null : DidYouMean.closest(name, upstreams.keySet());
                s.problems().add(new InvalidConfigException.Problem(s.key(k), ConfigLoader.location(item.origin()),
                        (name == null ? "expected an upstream name or {upstream: NAME, model: M}"
                                : "unknown upstream \"" + name + "\"" + (hint != null ? " (did you mean \"" + hint + "\"?)" : ""))
                                + "; expected one of " + new TreeSet<>(declared)));
                continue;
            }
            out.add(new RouteTarget(name, model));
        }
        return out;
    }
}
