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
 * is parsed only when a candidate route needs it. Requests go through {@link #resolve}, which routes the normalised
 * path ({@link PathNormalizer}); {@link #route} matches a path as given.
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

    /** What to do with a request: forward it on a route (with its normalised target), refuse it, or 404. */
    public sealed interface Resolution permits Routed, Refused, NotFound {}

    /** Forward on {@code route}; {@code uri} is the normalised path and query, to route and send upstream. */
    public record Routed(RouteSettings route, String uri) implements Resolution {}

    /** Answer 400; {@code route} (the one the raw path names, or null) gives the error's dialect. */
    public record Refused(RouteSettings route, String reason) implements Resolution {}

    /** Answer 404 for the normalised {@code path}. */
    public record NotFound(String path) implements Resolution {}

    /**
     * Normalises the target ({@link PathNormalizer}) and routes the result, which is then the only path used: it is
     * what the upstream receives. Refused: what the normaliser refuses; a {@code ..} that removes a segment of the
     * prefix of the route the path names or of the route it lands on (a {@code ..} may move only below the prefix);
     * a {@code ;parameter} that would select another route once an upstream strips it. Messages never carry the
     * query, which may hold a key.
     */
    public Resolution resolve(String target, Supplier<String> model) {
        Supplier<String> once = new Supplier<>() {
            private boolean read;
            private String value;

            @Override
            public String get() {
                if (!read) {
                    value = model.get();
                    read = true;
                }
                return value;
            }
        };
        String rawPath = pathOnly(target);
        PathNormalizer.Result result = PathNormalizer.normalize(target);
        if (result instanceof PathNormalizer.Refused refused) {
            return new Refused(route(rawPath, once), "the path " + rawPath + " was refused: " + refused.reason());
        }
        PathNormalizer.Normalized n = (PathNormalizer.Normalized) result;
        RouteSettings lands = route(n.path(), once);
        RouteSettings named = n.lexical().equals(n.path()) ? lands : route(n.lexical(), once);
        RouteSettings reported = named != null ? named : lands;
        RouteSettings deeper = lands == null || named != null && segments(named.prefix()) >= segments(lands.prefix())
                ? named : lands;
        if (deeper != null && n.lowestDepth() < segments(deeper.prefix())) {
            return new Refused(reported, "the path " + rawPath + " was refused: a .. segment climbs above the prefix "
                    + deeper.prefix() + " of route \"" + deeper.name() + "\"");
        }
        if (lands == null) return new NotFound(n.path());
        if (n.withoutParams() != null && route(n.withoutParams(), once) != lands) {
            return new Refused(reported, "the path " + rawPath + " was refused: its ;parameters would select another route"
                    + " once the upstream strips them");
        }
        return new Routed(lands, n.pathAndQuery());
    }

    private static int segments(String prefix) {
        int n = 0;
        for (int i = 0; i < prefix.length(); i++) {
            if (prefix.charAt(i) == '/' && i + 1 < prefix.length()) n++;
        }
        return n;
    }

    private static String pathOnly(String target) {
        int q = target.indexOf('?');
        return q < 0 ? target : target.substring(0, q);
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

    /**
     * The path to send upstream: prefix stripped when the route says so, base path of the upstream prepended. The
     * target must be normalised ({@link #resolve}): what follows the base path then has no dot segment and cannot
     * leave it. A target that is not is a bug upstream of here, refused rather than sent.
     */
    public static String upstreamPath(RouteSettings route, String basePath, String pathAndQuery) {
        String p = pathAndQuery;
        if (route.stripPrefix() && !route.prefix().equals("/")) {
            p = p.substring(route.prefix().length());
            if (p.isEmpty() || p.charAt(0) == '?') p = "/" + p;
        }
        if (!(PathNormalizer.normalize(p) instanceof PathNormalizer.Normalized n) || !n.pathAndQuery().equals(p)) {
            throw new IllegalArgumentException("not a normalised path for route " + route.name() + ": " + pathOnly(p));
        }
        return basePath.isEmpty() ? p : basePath + p; // "" + p would copy p: once per request (issue 20)
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
