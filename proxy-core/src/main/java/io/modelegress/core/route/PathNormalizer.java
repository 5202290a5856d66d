package io.modelegress.core.route;

import java.util.ArrayList;
import java.util.List;

/**
 * Puts a request path in the one form that is routed and sent upstream, so the sidecar and the upstream cannot read
 * it differently (Envoy's {@code normalize_path} + {@code merge_slashes} +
 * {@code path_with_escaped_slashes_action: REJECT_REQUEST}): percent-encoded unreserved characters decoded (RFC 3986
 * 6.2.2.2; every other escape kept as sent), empty segments merged, {@code .} and {@code ..} segments removed
 * (5.2.4). The query is kept byte for byte.
 *
 * <p>Refused, because an upstream could read them as a different path than the one routed: a {@code ..} above
 * {@code /} (Envoy clamps it; a request that tries it is an attack, not a typo), encoded {@code /} or {@code \}, a
 * raw {@code \}, a {@code ;} parameter on a dot segment ({@code ..;} is {@code ..} to Tomcat and friends), malformed
 * or control-character escapes, and a fragment.
 */
public final class PathNormalizer {
    private PathNormalizer() {}

    public sealed interface Result permits Normalized, Refused {}

    /**
     * The normalised path and the query untouched (null when the target had no {@code ?}). {@code lowestDepth}: the
     * fewest segments left after a {@code ..} removed one ({@link Integer#MAX_VALUE} when there was none), so the
     * router can tell a {@code ..} that stayed under a route's prefix from one that climbed out of it.
     * {@code withoutParams}: the path with every segment's {@code ;parameters} removed, or null when it has none.
     * {@code lexical}: the path as the agent wrote it, escapes decoded and slashes merged but its dot segments still
     * in, which is the route it names.
     */
    public record Normalized(String path, String query, int lowestDepth, String withoutParams, String lexical)
            implements Result {
        public String pathAndQuery() { return query == null ? path : path + "?" + query; }
    }

    /** Why the path cannot be forwarded, for the 400 the agent gets. */
    public record Refused(String reason) implements Result {}

    public static Result normalize(String target) {
        int q = target.indexOf('?');
        String rawPath = q < 0 ? target : target.substring(0, q);
        String query = q < 0 ? null : target.substring(q + 1);
        if (!rawPath.startsWith("/")) return new Refused("the path must start with /");
        if (alreadyNormal(rawPath)) return new Normalized(rawPath, query, Integer.MAX_VALUE, null, rawPath);
        StringBuilder decoded = new StringBuilder(rawPath.length());
        for (int i = 0; i < rawPath.length(); i++) {
            char c = rawPath.charAt(i);
            if (c == '\\') return new Refused("a backslash in the path");
            if (c == '#') return new Refused("a fragment (#) in the request path");
            if (c < 0x20 || c == 0x7f) return new Refused("a control character in the path");
            if (c != '%') {
                decoded.append(c);
                continue;
            }
            int v = i + 2 < rawPath.length() ? hex(rawPath.charAt(i + 1)) << 4 | hex(rawPath.charAt(i + 2)) : -1;
            if (v < 0) return new Refused("a malformed percent-escape in the path");
            if (v == '/' || v == '\\') return new Refused("an encoded / or \\ (%2F, %5C) in the path");
            if (v < 0x20 || v == 0x7f) return new Refused("an encoded control character in the path");
            if (unreserved(v)) decoded.append((char) v);
            else decoded.append(rawPath, i, i + 3);
            i += 2;
        }
        String[] segments = decoded.substring(1).split("/", -1);
        List<String> out = new ArrayList<>(segments.length);
        StringBuilder lexical = new StringBuilder(decoded.length());
        int lowest = Integer.MAX_VALUE;
        boolean trailingSlash = false;
        boolean params = false;
        for (int i = 0; i < segments.length; i++) {
            String s = segments[i];
            boolean last = i == segments.length - 1;
            String name = name(s);
            if (name.length() < s.length() && (name.equals(".") || name.equals(".."))) {
                return new Refused("a ;parameter on a dot segment (" + s + ")");
            }
            if (!s.isEmpty()) lexical.append('/').append(s);
            if (s.isEmpty() || s.equals(".")) {
                trailingSlash = last;
            } else if (s.equals("..")) {
                if (out.isEmpty()) return new Refused("a .. segment climbs above /");
                out.remove(out.size() - 1);
                lowest = Math.min(lowest, out.size());
                trailingSlash = last;
            } else {
                out.add(s);
                params |= s.indexOf(';') >= 0;
                trailingSlash = false;
            }
        }
        String path = join(out, trailingSlash, false);
        if (lexical.length() == 0 || trailingSlash) lexical.append('/');
        return new Normalized(path, query, lowest, params ? join(out, trailingSlash, true) : null, lexical.toString());
    }

    /** The common case, decided in one pass without allocating: nothing to decode, merge, remove or refuse. */
    private static boolean alreadyNormal(String path) {
        char prev = 0;
        for (int i = 0; i < path.length(); i++) {
            char c = path.charAt(i);
            if (c == '%' || c == ';' || c == '\\' || c == '#' || c < 0x20 || c == 0x7f) return false;
            if (prev == '/' && (c == '/' || c == '.')) return false;
            prev = c;
        }
        return true;
    }

    /** The segment up to its first {@code ;}, literal or encoded. */
    private static String name(String segment) {
        int end = segment.length();
        int semi = segment.indexOf(';');
        if (semi >= 0) end = semi;
        int enc = segment.indexOf("%3");
        while (enc >= 0 && enc < end) {
            if (enc + 2 < segment.length() && (segment.charAt(enc + 2) == 'B' || segment.charAt(enc + 2) == 'b')) {
                end = enc;
                break;
            }
            enc = segment.indexOf("%3", enc + 1);
        }
        return segment.substring(0, end);
    }

    private static String join(List<String> segments, boolean trailingSlash, boolean withoutParams) {
        if (segments.isEmpty()) return "/";
        StringBuilder b = new StringBuilder();
        for (String s : segments) {
            int semi = withoutParams ? s.indexOf(';') : -1;
            b.append('/').append(semi < 0 ? s : s.substring(0, semi));
        }
        if (trailingSlash) b.append('/');
        return b.toString();
    }

    private static boolean unreserved(int c) {
        return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
                || c == '-' || c == '.' || c == '_' || c == '~';
    }

    private static int hex(char c) {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -0x1000;
    }
}
