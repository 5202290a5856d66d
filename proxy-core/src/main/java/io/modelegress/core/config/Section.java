package io.modelegress.core.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigOrigin;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Typed reads of one config block that turn every Typesafe error into a problem naming the full key, the file and
 * line, and what was expected; a failed read returns a harmless placeholder so all problems are reported at once.
 */
final class Section {
    final Config config;
    final String prefix;
    private final List<InvalidConfigException.Problem> problems;

    Section(Config config, String prefix, List<InvalidConfigException.Problem> problems) {
        this.config = config;
        this.prefix = prefix;
        this.problems = problems;
    }

    Section sub(String key) {
        return new Section(config.getConfig(key), prefix + key + ".", problems);
    }

    String key(String k) { return prefix + k; }

    List<InvalidConfigException.Problem> problems() { return problems; }

    ConfigOrigin origin(String k) {
        return config.hasPath(k) ? config.getValue(k).origin() : config.root().origin();
    }

    void problem(String k, String message) {
        problems.add(new InvalidConfigException.Problem(key(k), ConfigLoader.location(origin(k)), message));
    }

    boolean has(String k) { return config.hasPath(k); }

    Duration duration(String k) {
        try {
            Duration d = config.getDuration(k);
            if (d.isNegative()) problem(k, d + " (expected: a duration >= 0, like 250ms, 5s, 2m)");
            return d;
        } catch (ConfigException e) {
            fail(k, e, "a duration like 250ms, 5s or 2m");
            return Duration.ZERO;
        }
    }

    Duration durationOrNull(String k) { return config.hasPath(k) ? duration(k) : null; }

    long bytes(String k) {
        try {
            return config.getBytes(k);
        } catch (ConfigException e) {
            fail(k, e, "a size like 512KiB or 32MiB");
            return 0;
        }
    }

    long integer(String k, long min) {
        try {
            long v = config.getLong(k);
            if (v < min) problem(k, v + " (expected: an integer >= " + min + ")");
            return v;
        } catch (ConfigException e) {
            fail(k, e, "an integer >= " + min);
            return min;
        }
    }

    double number(String k, double min) {
        try {
            double v = config.getDouble(k);
            if (v < min) problem(k, v + " (expected: a number >= " + min + ")");
            return v;
        } catch (ConfigException e) {
            fail(k, e, "a number >= " + min);
            return min;
        }
    }

    boolean bool(String k) {
        try {
            return config.getBoolean(k);
        } catch (ConfigException e) {
            fail(k, e, "true or false");
            return false;
        }
    }

    /** A string, or null when unset/null. */
    String string(String k) {
        if (!config.hasPath(k)) return null;
        try {
            return config.getString(k);
        } catch (ConfigException e) {
            fail(k, e, "a string");
            return null;
        }
    }

    /** A list of strings; a single string is taken as a one-element list. */
    List<String> strings(String k) {
        if (!config.hasPath(k)) return List.of();
        try {
            return config.getStringList(k);
        } catch (ConfigException.WrongType e) {
            String single = string(k);
            return single == null ? List.of() : new ArrayList<>(List.of(single));
        } catch (ConfigException e) {
            fail(k, e, "a list of strings");
            return List.of();
        }
    }

    private void fail(String k, ConfigException e, String expected) {
        if (!config.hasPath(k)) {
            problem(k, "missing (expected: " + expected + ")");
            return;
        }
        problem(k, got(k) + " is not valid (expected: " + expected + ")");
    }

    /** The value as written when it is a plain one; only its shape for lists, mappings and credentials. */
    private String got(String k) {
        try {
            com.typesafe.config.ConfigValue v = config.getValue(k);
            boolean scalar = v.valueType() != com.typesafe.config.ConfigValueType.OBJECT
                    && v.valueType() != com.typesafe.config.ConfigValueType.LIST;
            return scalar && !secret(key(k)) ? "\"" + v.unwrapped() + "\"" : ConfigSchema.describe(v);
        } catch (ConfigException other) {
            return "a value";
        }
    }

    private static boolean secret(String fullKey) {
        return fullKey.endsWith("auth.value") || fullKey.endsWith("auth.password") || fullKey.endsWith("auth.username");
    }
}
