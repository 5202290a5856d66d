package io.modelegress.bench;

import java.util.HashMap;
import java.util.Map;

/** {@code --name value} pairs for the bench tools; unknown names fail at once so a typo in run.sh is loud. */
final class CliArgs {
    private final Map<String, String> values = new HashMap<>();

    CliArgs(String[] argv, String... known) {
        java.util.Set<String> allowed = java.util.Set.of(known);
        for (int i = 0; i < argv.length; i++) {
            String a = argv[i];
            if (!a.startsWith("--")) throw new IllegalArgumentException("unexpected argument " + a);
            String name = a.substring(2);
            String value;
            int eq = name.indexOf('=');
            if (eq >= 0) {
                value = name.substring(eq + 1);
                name = name.substring(0, eq);
            } else {
                if (i + 1 >= argv.length) throw new IllegalArgumentException("--" + name + " needs a value");
                value = argv[++i];
            }
            if (!allowed.contains(name)) throw new IllegalArgumentException("unknown option --" + name + " (expected one of " + allowed + ")");
            values.put(name, value);
        }
    }

    String string(String name, String fallback) {
        return values.getOrDefault(name, fallback);
    }

    int integer(String name, int fallback) {
        String v = values.get(name);
        return v == null ? fallback : Integer.parseInt(v);
    }

    long longValue(String name, long fallback) {
        String v = values.get(name);
        return v == null ? fallback : Long.parseLong(v);
    }
}
