package io.modelegress.core.mcp;

import java.net.URI;

/**
 * The older HTTP+SSE transport's {@code endpoint} event (the first event of {@code GET /sse}): its data is the URL the
 * client posts its messages to. A URL of the upstream would send the agent around the sidecar (no credential, no
 * proxy, no limits), so it is rewritten to the sidecar's own path for it: the upstream path mapped back through the
 * route (the upstream's base path off, the route's prefix on when it strips it), as a path-absolute reference the
 * client resolves against the sidecar URL it connected to. A relative reference without a leading {@code /} is left
 * as it is: resolved against the sidecar's URL it already lands on the route. A URL of another host is left too
 * (the server chose to send the client elsewhere; docs/mcp.md).
 */
public final class EndpointEvent {
    private EndpointEvent() {}

    /**
     * The event {@code event} (its text, up to and without its closing blank line) with its endpoint rewritten, or
     * {@code event} itself when it is not an endpoint event or needs no change.
     */
    public static String rewrite(String event, URI upstreamUrl, String basePath, String routePrefix, boolean stripPrefix) {
        String[] lines = event.split("\r\n|\r|\n", -1);
        boolean endpoint = false;
        for (String line : lines) {
            if (field(line, "event") != null && field(line, "event").equals("endpoint")) endpoint = true;
        }
        if (!endpoint) return event;
        StringBuilder out = new StringBuilder(event.length() + routePrefix.length());
        boolean changed = false;
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i];
            String data = field(line, "data");
            if (data != null) {
                String mapped = agentUrl(data, upstreamUrl, basePath, routePrefix, stripPrefix);
                if (!mapped.equals(data)) {
                    line = "data: " + mapped;
                    changed = true;
                }
            }
            if (i > 0) out.append('\n');
            out.append(line);
        }
        return changed ? out.toString() : event;
    }

    /** The URL the agent should post to for the upstream's {@code endpoint}. */
    public static String agentUrl(String endpoint, URI upstreamUrl, String basePath, String routePrefix, boolean stripPrefix) {
        String pathAndQuery;
        if (endpoint.startsWith("/") && !endpoint.startsWith("//")) {
            pathAndQuery = endpoint;
        } else {
            URI u;
            try {
                u = new URI(endpoint);
            } catch (java.net.URISyntaxException e) {
                return endpoint;
            }
            if (!u.isAbsolute() || !sameOrigin(u, upstreamUrl)) return endpoint;
            pathAndQuery = (u.getRawPath() == null || u.getRawPath().isEmpty() ? "/" : u.getRawPath())
                    + (u.getRawQuery() == null ? "" : "?" + u.getRawQuery());
        }
        String p = pathAndQuery;
        if (!basePath.isEmpty() && p.startsWith(basePath)
                && (p.length() == basePath.length() || p.charAt(basePath.length()) == '/' || p.charAt(basePath.length()) == '?')) {
            p = p.substring(basePath.length());
            if (p.isEmpty() || p.charAt(0) == '?') p = "/" + p;
        }
        if (stripPrefix && !routePrefix.equals("/")) p = routePrefix + p;
        return p;
    }

    private static boolean sameOrigin(URI u, URI upstream) {
        return u.getScheme() != null && u.getScheme().equalsIgnoreCase(upstream.getScheme())
                && u.getHost() != null && u.getHost().equalsIgnoreCase(upstream.getHost())
                && port(u) == port(upstream);
    }

    private static int port(URI u) {
        if (u.getPort() >= 0) return u.getPort();
        return "https".equalsIgnoreCase(u.getScheme()) ? 443 : 80;
    }

    /** The value of an SSE field line {@code name: value} (one leading space dropped), or null for another line. */
    private static String field(String line, String name) {
        if (!line.startsWith(name)) return null;
        if (line.length() == name.length()) return "";
        if (line.charAt(name.length()) != ':') return null;
        String v = line.substring(name.length() + 1);
        return v.startsWith(" ") ? v.substring(1) : v;
    }
}
