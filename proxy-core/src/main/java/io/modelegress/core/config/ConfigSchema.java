package io.modelegress.core.config;

import com.typesafe.config.ConfigList;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueFactory;
import com.typesafe.config.ConfigValueType;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Checks the operator's YAML tree against reference.conf before it is merged: keys we do not know, and values of
 * the wrong shape (a number or string where a mapping goes, a mapping where a list goes). Each is reported with its
 * key and line, and left out of the tree it returns, so the mapper still runs on well-shaped input and reports its
 * own problems in the same run. Maps whose keys are names (upstreams, dns.hosts) are walked against their entry
 * template instead. Values are never echoed here: a misplaced one may be a credential.
 */
final class ConfigSchema {
    private static final Set<String> AUTH_KEYS = Set.of("header", "value", "value_file");
    private static final Set<String> ROUTE_TARGET_KEYS = Set.of("upstream", "model");
    static final String UPSTREAM_SHAPE = "a mapping with at least url, like a: {url: https://api.openai.com}";
    static final String ROUTE_SHAPE = "a mapping with prefix and upstreams, like - {prefix: /v1, upstreams: [openai]}";

    private final ConfigObject reference;
    private final List<InvalidConfigException.Problem> problems;

    ConfigSchema(ConfigObject reference, List<InvalidConfigException.Problem> problems) {
        this.reference = reference;
        this.problems = problems;
    }

    /** The tree without unknown keys and wrong-shaped values; each one left out is reported. */
    Map<String, Object> checkRoot(Map<String, Object> user) {
        Map<String, Object> out = new LinkedHashMap<>();
        for (Map.Entry<String, Object> e : user.entrySet()) {
            String key = e.getKey();
            ConfigValue v = (ConfigValue) e.getValue();
            if (key.endsWith("_defaults") || !reference.containsKey(key)) {
                unknown(key, v, known(reference.keySet()));
                continue;
            }
            ConfigValue kept;
            switch (key) {
                case "upstreams":
                    kept = upstreams(v);
                    break;
                case "routes":
                    kept = routes(v);
                    break;
                default:
                    kept = check(key, v, reference.get(key));
            }
            if (kept != null) out.put(key, kept);
        }
        return out;
    }

    private ConfigValue upstreams(ConfigValue v) {
        if (!mapping("upstreams", v, "a mapping of upstream names to their settings, like upstreams: {openai: {url: ...}}")) return null;
        ConfigObject obj = (ConfigObject) v;
        for (Map.Entry<String, ConfigValue> u : ((ConfigObject) v).entrySet()) {
            String path = "upstreams." + u.getKey();
            ConfigValue entry = u.getValue();
            if (entry.valueType() != ConfigValueType.OBJECT) {
                // Kept (as nothing) so that the routes naming it are not also reported as naming an unknown upstream.
                shape(path, entry, UPSTREAM_SHAPE);
                obj = obj.withValue(u.getKey(), ConfigValueFactory.fromAnyRef(null).withOrigin(entry.origin()));
                continue;
            }
            obj = obj.withValue(u.getKey(), check(path, entry, reference.get("upstream_defaults")));
        }
        return obj;
    }

    private ConfigValue routes(ConfigValue v) {
        if (v.valueType() == ConfigValueType.NULL) return v;
        if (v.valueType() != ConfigValueType.LIST) {
            shape("routes", v, "a list of routes, each " + ROUTE_SHAPE);
            return null;
        }
        List<ConfigValue> out = new ArrayList<>();
        int i = 0;
        for (ConfigValue r : (ConfigList) v) {
            String path = "routes[" + i++ + "]";
            if (r.valueType() != ConfigValueType.OBJECT) {
                shape(path, r, ROUTE_SHAPE);
                out.add(r); // kept in place so the next routes keep their index; the mapper skips it
                continue;
            }
            out.add(check(path, r, reference.get("route_defaults")));
        }
        return ConfigValueFactory.fromIterable(out).withOrigin(v.origin());
    }

    /** {@code user} checked against {@code ref}: the value to keep, or null to leave it out (the default applies). */
    private ConfigValue check(String path, ConfigValue user, ConfigValue ref) {
        if (ref == null) return user;
        if (ref.valueType() == ConfigValueType.LIST && user.valueType() == ConfigValueType.OBJECT) {
            shape(path, user, "a list, like [a, b] or one \"- item\" per line");
            return null;
        }
        if (ref.valueType() != ConfigValueType.OBJECT) return user; // scalars: the mapper's typed reads check them
        if (user.valueType() == ConfigValueType.NULL) return null;   // an empty block: the defaults
        if (path.equals("dns.hosts")) {
            return mapping(path, user, "a mapping of host names to IP addresses, like hosts: {api.openai.com: 10.0.0.1}") ? user : null;
        }
        if (!mapping(path, user, "a mapping of " + last(path) + " settings, one \"key: value\" per line")) return null;
        ConfigObject refObj = (ConfigObject) ref;
        ConfigObject obj = (ConfigObject) user;
        for (Map.Entry<String, ConfigValue> e : ((ConfigObject) user).entrySet()) {
            String key = e.getKey();
            String child = path + "." + key;
            ConfigValue kept;
            if (key.equals("timeouts") && (path.startsWith("upstreams.") || path.startsWith("routes["))) {
                kept = check(child, e.getValue(), reference.get("timeouts"));
            } else if (key.equals("retry") && path.startsWith("routes[")) {
                kept = check(child, e.getValue(), reference.get("retry"));
            } else if (key.equals("auth") && path.startsWith("upstreams.")) {
                kept = keys(child, e.getValue(), AUTH_KEYS, "a mapping, like auth: {header: Authorization, value: \"Bearer ${OPENAI_API_KEY}\"}");
            } else if (key.equals("upstreams") && path.startsWith("routes[")) {
                kept = targets(child, e.getValue());
            } else if (!refObj.containsKey(key)) {
                unknown(child, e.getValue(), refObj.keySet());
                kept = null;
            } else {
                kept = check(child, e.getValue(), refObj.get(key));
            }
            obj = kept == null ? obj.withoutKey(key) : obj.withValue(key, kept);
        }
        return obj;
    }

    private ConfigValue targets(String path, ConfigValue user) {
        if (user.valueType() == ConfigValueType.OBJECT) {
            shape(path, user, "a list of upstream names, like [openai] or [{upstream: openai, model: gpt-4o}]");
            return null;
        }
        if (!(user instanceof ConfigList)) return user;
        List<ConfigValue> out = new ArrayList<>();
        int i = 0;
        for (ConfigValue t : (ConfigList) user) {
            ConfigValue kept = t.valueType() == ConfigValueType.OBJECT ? keys(path + "[" + i + "]", t, ROUTE_TARGET_KEYS, null) : t;
            out.add(kept);
            i++;
        }
        return ConfigValueFactory.fromIterable(out).withOrigin(user.origin());
    }

    /** A mapping (or null) with only {@code allowed} keys; unknown keys are reported and left out. */
    private ConfigValue keys(String path, ConfigValue user, Set<String> allowed, String expected) {
        if (user.valueType() == ConfigValueType.NULL) return user;
        if (expected != null && !mapping(path, user, expected)) return null;
        if (!(user instanceof ConfigObject)) return user;
        ConfigObject obj = (ConfigObject) user;
        for (Map.Entry<String, ConfigValue> e : ((ConfigObject) user).entrySet()) {
            if (!allowed.contains(e.getKey())) {
                unknown(path + "." + e.getKey(), e.getValue(), allowed);
                obj = obj.withoutKey(e.getKey());
            }
        }
        return obj;
    }

    /** True when {@code v} is a mapping; otherwise reports what it is instead. */
    private boolean mapping(String path, ConfigValue v, String expected) {
        if (v.valueType() == ConfigValueType.OBJECT) return true;
        shape(path, v, expected);
        return false;
    }

    private void shape(String path, ConfigValue v, String expected) {
        problems.add(new InvalidConfigException.Problem(path, ConfigLoader.location(v.origin()),
                "got " + describe(v) + " (expected: " + expected + ")"));
    }

    /** What a value is, never what it says. */
    static String describe(ConfigValue v) {
        switch (v.valueType()) {
            case OBJECT: return "a mapping";
            case LIST: return "a list";
            case NUMBER: return "a number";
            case BOOLEAN: return "true/false";
            case NULL: return "nothing";
            default: return "a string";
        }
    }

    private static String last(String path) {
        String p = path.replaceAll("\\[\\d+\\]$", "");
        return p.substring(p.lastIndexOf('.') + 1);
    }

    private void unknown(String path, ConfigValue v, Set<String> allowed) {
        String key = path.substring(path.lastIndexOf('.') + 1);
        String suggestion = DidYouMean.closest(key, allowed);
        problems.add(new InvalidConfigException.Problem(path, ConfigLoader.location(v.origin()),
                "unknown key" + (suggestion != null ? " (did you mean \"" + suggestion + "\"?)" : "")
                        + "; expected one of " + known(allowed)));
    }

    private static Set<String> known(Set<String> keys) {
        Set<String> out = new TreeSet<>(keys);
        out.removeIf(k -> k.endsWith("_defaults"));
        return out;
    }
}
