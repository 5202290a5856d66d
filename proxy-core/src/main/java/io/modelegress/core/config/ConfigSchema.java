package io.modelegress.core.config;

import com.typesafe.config.ConfigList;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Finds keys the operator wrote that we do not know, by walking the YAML tree against reference.conf. Maps whose
 * keys are names (upstreams, dns.hosts) are walked against their entry template instead.
 */
final class ConfigSchema {
    private static final Set<String> AUTH_KEYS = Set.of("header", "value", "value_file");
    private static final Set<String> ROUTE_TARGET_KEYS = Set.of("upstream", "model");

    private final ConfigObject reference;
    private final List<InvalidConfigException.Problem> problems;

    ConfigSchema(ConfigObject reference, List<InvalidConfigException.Problem> problems) {
        this.reference = reference;
        this.problems = problems;
    }

    void checkRoot(Map<String, Object> user) {
        for (Map.Entry<String, Object> e : user.entrySet()) {
            String key = e.getKey();
            ConfigValue v = (ConfigValue) e.getValue();
            if (key.endsWith("_defaults") || !reference.containsKey(key)) {
                unknown(key, v, known(reference.keySet()));
                continue;
            }
            switch (key) {
                case "upstreams":
                    if (v instanceof ConfigObject) {
                        for (Map.Entry<String, ConfigValue> u : ((ConfigObject) v).entrySet()) {
                            check("upstreams." + u.getKey(), u.getValue(), (ConfigObject) reference.get("upstream_defaults"));
                        }
                    }
                    break;
                case "routes":
                    if (v instanceof ConfigList) {
                        int i = 0;
                        for (ConfigValue r : (ConfigList) v) {
                            check("routes[" + i++ + "]", r, (ConfigObject) reference.get("route_defaults"));
                        }
                    }
                    break;
                default:
                    check(key, v, reference.get(key));
            }
        }
    }

    private void check(String path, ConfigValue user, ConfigValue ref) {
        if (!(user instanceof ConfigObject) || !(ref instanceof ConfigObject)) return;
        ConfigObject refObj = (ConfigObject) ref;
        if (path.equals("dns.hosts")) return;
        for (Map.Entry<String, ConfigValue> e : ((ConfigObject) user).entrySet()) {
            String key = e.getKey();
            String child = path + "." + key;
            Set<String> allowed = refObj.keySet();
            if (key.equals("timeouts") && (path.startsWith("upstreams.") || path.startsWith("routes["))) {
                check(child, e.getValue(), reference.get("timeouts"));
                continue;
            }
            if (key.equals("retry") && path.startsWith("routes[")) {
                check(child, e.getValue(), reference.get("retry"));
                continue;
            }
            if (key.equals("auth") && path.startsWith("upstreams.")) {
                checkKeys(child, e.getValue(), AUTH_KEYS);
                continue;
            }
            if (key.equals("upstreams") && path.startsWith("routes[") && e.getValue() instanceof ConfigList) {
                int i = 0;
                for (ConfigValue t : (ConfigList) e.getValue()) checkKeys(child + "[" + i++ + "]", t, ROUTE_TARGET_KEYS);
                continue;
            }
            if (!allowed.contains(key)) {
                unknown(child, e.getValue(), allowed);
                continue;
            }
            ConfigValue refChild = refObj.get(key);
            if (refChild != null && refChild.valueType() == ConfigValueType.OBJECT) check(child, e.getValue(), refChild);
        }
    }

    private void checkKeys(String path, ConfigValue user, Set<String> allowed) {
        if (!(user instanceof ConfigObject)) return;
        for (Map.Entry<String, ConfigValue> e : ((ConfigObject) user).entrySet()) {
            if (!allowed.contains(e.getKey())) unknown(path + "." + e.getKey(), e.getValue(), allowed);
        }
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
