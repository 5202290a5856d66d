package io.modelegress.core.route;

import io.modelegress.core.config.RouteSettings;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.Supplier;
import java.util.regex.Pattern;

/**
 * Picks the route for a request: the longest prefix that matches at a path-segment boundary; among routes with the
 * same prefix, the first whose {@code models} globs match the body's model, else the one with no models. The body
 * is parsed only when a candidate route needs it.
 */
public final class Router {
    private final List<Entry> entries;

    public Router(List<RouteSettings> routes) {
        List<Entry> list = new ArrayList<>();
        for (RouteSettings r : routes) list.add(new Entry(r, compile(r.models())));
        // Longest prefix first; within one prefix, routes that filter on models before the catch-all.
        list.sort(Comparator.comparingInt((Entry e) -> -e.route.prefix().length())
                .thenComparing(e -> e.models.isEmpty()));
        this.entries = List.copyOf(list);
    }

    /** The route for this path, or null; {@code model} is asked only when a route filters on models. */
    public RouteSettings route(String path, Supplier<String> model) {
        String m = null;
        boolean modelRead = false;
        for (Entry e : entries) {
            if (!prefixMatches(e.route.prefix(), path)) continue;
            if (e.models.isEmpty()) return e.route;
            if (!modelRead) {
                m = model.get();
                modelRead = true;
            }
            if (m == null) continue;
            for (Pattern p : e.models) {
                if (p.matcher(m).matches()) return e.route;
            }
        }
        return null;
    }

    /** True when some route with a matching prefix filters on models (so the body's model must be read). */
    public boolean needsModel(String path) {
        for (Entry e : entries) {
            if (prefixMatches(e.route.prefix(), path) && !e.models.isEmpty()) return true;
        }
        return false;
    }

    static boolean prefixMatches(String prefix, String path) {
        if (prefix.equals("/")) return true;
        if (!path.startsWith(prefix)) return false;
        if (path.length() == prefix.length()) return true;
        char next = path.charAt(prefix.length());
        return next == '/' || next == '?';
    }

    /** The path to send upstream: prefix stripped when the route says so, base path of the upstream prepended. */
    public static String upstreamPath(RouteSettings route, String basePath, String pathAndQuery) {
        String p = pathAndQuery;
        if (route.stripPrefix() && !route.prefix().equals("/")) {
            p = p.substring(route.prefix().length());
            if (p.isEmpty() || p.charAt(0) == '?') p = "/" + p;
        }
        return basePath + p;
    }

    private static List<Pattern> compile(List<String> globs) {
        List<Pattern> out = new ArrayList<>();
        for (String g : globs) {
            StringBuilder re = new StringBuilder();
            for (char c : g.toCharArray()) {
                if (c == '*') re.append(".*");
                else if (c == '?') re.append('.');
                else re.append(Pattern.quote(String.valueOf(c)));
            }
            out.add(Pattern.compile(re.toString()));
        }
        return out;
    }

    private record Entry(RouteSettings route, List<Pattern> models) {}
}
