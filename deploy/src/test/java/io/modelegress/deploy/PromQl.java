package io.modelegress.deploy;

import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The metric names a PromQL expression reads. Not a parser: it removes what can hold other identifiers (strings,
 * label matchers, ranges, grouping clauses, Grafana variables), then every identifier not called as a function and
 * not a keyword is a metric name. Enough for the rules and panels we write; a test pins its behaviour.
 */
final class PromQl {
    private static final Set<String> KEYWORDS = Set.of("and", "or", "unless", "bool", "offset", "by", "without",
            "on", "ignoring", "group_left", "group_right", "inf", "nan");
    private static final Pattern STRING = Pattern.compile("\"(?:[^\"\\\\]|\\\\.)*\"|'(?:[^'\\\\]|\\\\.)*'|`[^`]*`");
    private static final Pattern GROUPING = Pattern.compile("\\b(by|without|on|ignoring|group_left|group_right)\\s*\\([^)]*\\)");
    private static final Pattern IDENTIFIER = Pattern.compile("(?<![\\w.$])([a-zA-Z_:][a-zA-Z0-9_:]*)(\\s*\\()?");

    private PromQl() {}

    static Set<String> metricNames(String expr) {
        String s = expr.replaceAll("label_values\\(\\s*([^,)]+)\\s*,[^)]*\\)", "$1");   // Grafana's template function
        s = STRING.matcher(s).replaceAll("\"\"");
        s = s.replaceAll("\\{[^}]*}", " ").replaceAll("\\[[^\\]]*]", " ");
        s = GROUPING.matcher(s).replaceAll(" ");
        s = s.replaceAll("\\$\\{?\\w+}?", " ");
        s = s.replaceAll("\\b\\d+(\\.\\d+)?([eE][+-]?\\d+)?(ms|s|m|h|d|w|y)?\\b", " ");
        Set<String> names = new TreeSet<>();
        Matcher m = IDENTIFIER.matcher(s);
        while (m.find()) {
            String id = m.group(1);
            if (m.group(2) != null || KEYWORDS.contains(id.toLowerCase())) continue;
            names.add(id);
        }
        return names;
    }
}
