package io.modelegress.core.proxy;

import java.util.Locale;

/**
 * An upstream's own {@code proxy:} setting, parsed at config load so the per-request path never parses:
 * {@code inherit} (the global rules), {@code direct}, or a proxy URL. The latter two are decided here, once.
 */
public final class UpstreamProxy {
    /** An upstream without its own setting. */
    public static final UpstreamProxy INHERIT = new UpstreamProxy(null);

    private final ProxyDecision decision; // null: inherit

    private UpstreamProxy(ProxyDecision decision) {
        this.decision = decision;
    }

    /**
     * Parses {@code upstreams.<name>.proxy}: null, blank or {@code inherit} inherit; {@code direct}; else a proxy URL.
     * Throws IllegalArgumentException naming the key when the URL is invalid.
     */
    public static UpstreamProxy parse(String upstreamName, String setting) {
        if (setting == null || setting.isBlank()) return INHERIT;
        String value = setting.strip();
        String prefix = "upstream \"" + upstreamName + "\" sets proxy: ";
        switch (value.toLowerCase(Locale.ROOT)) {
            case "inherit":
                return INHERIT;
            case "direct":
                return new UpstreamProxy(ProxyDecision.direct(prefix + "direct"));
            default:
                try {
                    ProxyUrl url = ProxyUrl.parse(value);
                    return new UpstreamProxy(ProxyDecision.via(url, prefix + url.masked()));
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException("upstreams." + upstreamName + ".proxy: " + e.getMessage()
                            + " (expected: inherit, direct or a proxy URL)", e);
                }
        }
    }

    public boolean inherits() {
        return decision == null;
    }

    /** The fixed decision for {@code direct} or a URL; null when the upstream inherits. */
    ProxyDecision decision() {
        return decision;
    }

    @Override
    public String toString() {
        return decision == null ? "inherit" : decision.toString();
    }
}
