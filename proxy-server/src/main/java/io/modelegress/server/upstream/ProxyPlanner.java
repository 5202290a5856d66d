package io.modelegress.server.upstream;

import io.modelegress.core.config.EgressConfig;
import io.modelegress.core.config.ProxyCredentials;
import io.modelegress.core.config.UpstreamSettings;
import io.modelegress.core.error.EgressException;
import io.modelegress.core.error.ErrorCode;
import io.modelegress.core.proxy.ProxyDecision;
import io.modelegress.core.proxy.ProxyResolver;
import io.modelegress.core.proxy.ProxyUrl;
import io.modelegress.core.proxy.UpstreamProxy;
import java.net.URI;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Proxy decisions for the running config: one per upstream, made once at start-up (config and environment do not
 * change under a running generation), plus {@link #explain} for any URL (explain-proxy, /debug/proxy).
 */
public final class ProxyPlanner {
    private final ProxyResolver resolver;
    private final EgressConfig config;
    private final Map<String, ProxyDecision> decisions = new HashMap<>();
    private final Map<String, ProxyHop> hops = new HashMap<>();

    public ProxyPlanner(EgressConfig config, Map<String, String> env) {
        this.config = config;
        this.resolver = new ProxyResolver(config.proxy(), env);
        for (UpstreamSettings u : config.upstreams().values()) {
            ProxyDecision d = resolver.resolve(UpstreamProxy.parse(u.name(), u.proxy()), u.url().getScheme(), u.host(), u.port());
            decisions.put(u.name(), d);
            if (d.proxy() != null && !d.failed()) hops.put(u.name(), hop(d.proxy(), config.proxyAuth()));
        }
    }

    /** The proxy for this upstream, or null for direct; a decision that failed (a bad HTTPS_PROXY) fails the attempt. */
    public ProxyHop hopFor(UpstreamSettings u) {
        ProxyDecision d = decisions.get(u.name());
        if (d != null && d.failed()) {
            throw new EgressException(ErrorCode.PROXY_UNREACHABLE, "no usable proxy for upstream \"" + u.name() + "\": " + d.reason());
        }
        return hops.get(u.name());
    }

    public ProxyDecision decisionFor(String upstream) { return decisions.get(upstream); }

    public java.util.List<String> warnings() { return resolver.warnings(); }

    /** The decision for any URL, as explain-proxy prints it; an upstream configured for that host lends its own setting. */
    public Map<String, Object> explain(String url) {
        URI u;
        try {
            u = new URI(url.contains("://") ? url : "https://" + url);
        } catch (Exception e) {
            throw new IllegalArgumentException("not a URL: " + shown(url) + " (expected: like https://api.openai.com/v1)");
        }
        String scheme = u.getScheme() == null ? "https" : u.getScheme().toLowerCase(java.util.Locale.ROOT);
        if (u.getHost() == null || !(scheme.equals("http") || scheme.equals("https"))) {
            throw new IllegalArgumentException("not an http(s) URL: " + shown(url) + " (expected: like https://api.openai.com/v1)");
        }
        int port = u.getPort() > 0 ? u.getPort() : scheme.equals("https") ? 443 : 80;
        ProxyDecision d = null;
        String upstream = null;
        for (UpstreamSettings s : config.upstreams().values()) {
            if (s.host().equalsIgnoreCase(u.getHost()) && s.port() == port && s.url().getScheme().equals(scheme)) {
                d = resolver.resolve(UpstreamProxy.parse(s.name(), s.proxy()), scheme, u.getHost(), port);
                upstream = s.name();
                break;
            }
        }
        if (d == null) d = resolver.resolve(scheme, u.getHost(), port);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("url", shown(url));
        out.put("proxy", d.proxy() == null || d.failed() ? null : hop(d.proxy(), config.proxyAuth()).masked());
        out.put("reason", d.reason());
        if (upstream != null) out.put("upstream", upstream);
        if (d.failed()) out.put("failed", true);
        return out;
    }

    /**
     * A URL as it may be shown back (explain-proxy, /debug/proxy): its userinfo, which may hold a password or a
     * token, masked like a proxy URL's; the rest as given. Text that does not parse is masked as a proxy URL is.
     */
    static String shown(String url) {
        try {
            URI u = new URI(url);
            String info = u.getRawUserInfo();
            if (info == null) return u.getHost() != null ? url : ProxyUrl.redactCredentials(url);
            int i = url.indexOf(info + "@");
            return url.substring(0, i) + (info.contains(":") ? info.substring(0, info.indexOf(':')) + ":***" : "***")
                    + url.substring(i + info.length());
        } catch (Exception e) {
            return ProxyUrl.redactCredentials(url);
        }
    }

    /** A proxy URL with its password hidden, even when it does not parse. */
    public String mask(String proxyUrl) { return ProxyUrl.redactCredentials(proxyUrl); }

    /** A proxy URL without userinfo takes {@code proxy.auth}'s credentials, if any. */
    private static ProxyHop hop(ProxyUrl p, ProxyCredentials auth) {
        if (p.username() == null && auth.present()) {
            String masked = p.scheme().text() + "://" + auth.username() + ":***@" + p.authority();
            return new ProxyHop(p.scheme().text(), p.host(), p.port(), auth.username(), auth.password(), masked);
        }
        return new ProxyHop(p.scheme().text(), p.host(), p.port(), p.username(), p.password(), p.masked());
    }
}
