package io.modelegress.core.docs;

import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The {@code | key | default | …} tables of the operator docs, read as (reference.conf path → shown default), and
 * the leaves of reference.conf in the same form, so the test can compare them after normalising how each writes a
 * value ({@code 30s} / {@code 30 s}, quotes, lists, {@code null} / unset / —).
 */
final class DocTables {
    /** One row of a key/default table: the reference.conf path it documents and the default cell as written. */
    record Row(String file, String heading, String key, String path, String shownDefault) {}

    private DocTables() {}

    /**
     * Rows of every {@code | key | default |} table in {@code markdown}. {@code prefixes} maps the heading a table
     * sits under to what its keys are relative to in reference.conf; a key/default table under a heading not in
     * the map is an error, so a new table must say where its keys live.
     */
    static List<Row> rows(String file, String markdown, Map<String, String> prefixes) {
        List<Row> out = new ArrayList<>();
        String heading = null;
        boolean inKeyTable = false;
        for (String line : markdown.split("\n")) {
            if (line.startsWith("#")) {
                heading = line.replaceFirst("^#+\\s*", "").trim();
                inKeyTable = false;
                continue;
            }
            if (!line.startsWith("|")) {
                inKeyTable = false;
                continue;
            }
            List<String> cells = cells(line);
            if (cells.size() >= 2 && cells.get(0).equals("key") && cells.get(1).equals("default")) {
                if (!prefixes.containsKey(heading)) {
                    throw new AssertionError(file + ": a key/default table under \"" + heading
                            + "\", which the docs test does not map to a reference.conf block");
                }
                inKeyTable = true;
                continue;
            }
            if (!inKeyTable || cells.get(0).matches("-+")) continue;
            String key = cells.get(0);
            if (!key.startsWith("`") || !key.endsWith("`")) {
                throw new AssertionError(file + " (" + heading + "): key cell " + key + " is not one `key`");
            }
            key = key.substring(1, key.length() - 1);
            out.add(new Row(file, heading, key, prefixes.get(heading) + key, cells.get(1)));
        }
        return out;
    }

    private static List<String> cells(String line) {
        String inner = line.trim();
        inner = inner.substring(1, inner.endsWith("|") ? inner.length() - 1 : inner.length());
        List<String> out = new ArrayList<>();
        for (String c : inner.split("\\|", -1)) out.add(c.trim());
        return out;
    }

    /** Every leaf of reference.conf (nulls, empty blocks and lists included), by path, in the file's order. */
    static Map<String, ConfigValue> referenceLeaves(ConfigObject root) {
        Map<String, ConfigValue> out = new LinkedHashMap<>();
        walk("", root, out);
        return out;
    }

    private static void walk(String prefix, ConfigObject o, Map<String, ConfigValue> out) {
        for (Map.Entry<String, ConfigValue> e : o.entrySet()) {
            String path = prefix + e.getKey();
            ConfigValue v = e.getValue();
            if (v.valueType() == ConfigValueType.OBJECT && !((ConfigObject) v).isEmpty()) {
                walk(path + ".", (ConfigObject) v, out);
            } else {
                out.put(path, v);
            }
        }
    }

    /** A reference.conf value in the docs' form: {@code null} → {@code unset}, lists as {@code [a, b]}, no quotes. */
    static String normalise(ConfigValue v) {
        switch (v.valueType()) {
            case NULL: return "unset";
            case OBJECT: return "{}";
            case LIST: return "[" + ((List<?>) v.unwrapped()).stream().map(String::valueOf).collect(Collectors.joining(",")) + "]";
            default: return normalise(String.valueOf(v.unwrapped()));
        }
    }

    /**
     * A default cell in comparable form: the first {@code `code`} span when there is one ({@code `0` (off)} → 0),
     * else the text before a parenthesis ({@code 0s (off)} → 0s); no quotes, no spaces, lower case; {@code —},
     * {@code -}, {@code null} and {@code unset} all mean no default.
     */
    static String normaliseCell(String cell) {
        String s = cell;
        int tick = s.indexOf('`');
        if (tick >= 0 && s.indexOf('`', tick + 1) > tick) s = s.substring(tick + 1, s.indexOf('`', tick + 1));
        else if (s.indexOf('(') > 0) s = s.substring(0, s.indexOf('('));
        s = normalise(s);
        return switch (s) {
            case "—", "-", "null", "unset", "none" -> "unset";
            default -> s;
        };
    }

    private static String normalise(String s) {
        return s.replace("\"", "").replace("'", "").replaceAll("\\s+", "").toLowerCase(Locale.ROOT);
    }

    /** True when the two normalised forms name the same value: equal, or the same duration or size in other units. */
    static boolean sameValue(String reference, String shown) {
        if (reference.equals(shown)) return true;
        try {
            var a = ConfigFactory.parseString("v = \"" + reference + "\"");
            var b = ConfigFactory.parseString("v = \"" + shown + "\"");
            if (hasUnit(reference) && hasUnit(shown)) {
                try {
                    return a.getDuration("v").equals(b.getDuration("v"));
                } catch (RuntimeException notDuration) {
                    return a.getBytes("v").equals(b.getBytes("v"));
                }
            }
        } catch (RuntimeException neither) {
            return false;
        }
        return false;
    }

    private static boolean hasUnit(String s) {
        return s.matches("[0-9.]+[a-z]+");
    }
}
