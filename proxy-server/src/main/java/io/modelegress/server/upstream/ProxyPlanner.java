package io.modelegress.server.upstream;

import io.modelegress.core.config.EgressConfig;
import io.modelegress.core.config.ProxyCredentials;
import io.modelegress.core.config.UpstreamSettings;
import io.modelegress.core.error.EgressException;
import io.modelegress.core.error.ErrorCode;
import io.modelegress.core.proxy.ProxyDecision;
import io.modelegress.core.proxy.ProxyEjections;
import io.modelegress.core.proxy.ProxyResolver;
import io.modelegress.core.proxy.ProxyStep;
import io.modelegress.core.proxy.ProxyUrl;
import io.modelegress.core.proxy.UpstreamProxy;
import io.modelegress.core.proxy.pac.PacEngine;
import io.modelegress.core.proxy.pac.PacHost;
import io.modelegress.core.time.Ticker;
import io.modelegress.server.metrics.EgressMetrics;
import java.net.URI;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;

/**
 * Proxy decisions for the running config: one per upstream, made once at start-up (config and environment do not
 * change under a running generation) or, with {@code proxy.pac}, asked of the PAC file (cached per host), plus
 * {@link #explain} for any URL (explain-proxy, /debug/proxy). Owns the failover ejections and the PAC runner.
 */
public final class ProxyPlanner implements AutoCloseable {
    private final ProxyResolver resolver;
    private final EgressConfig config;
    private final Map<String, ProxyDecision> decisions = new HashMap<>();
    private final Map<String, ProxyRoute> routes = new HashMap<>();
    private final ProxyEjections ejections;
    private final PacRunner pac;
    private final ProxyAuthenticator.Memory authMemory = new ProxyAuthenticator.Memory();
    private final KerberosClient kerberos;

    public ProxyPlanner(EgressConfig config, Map<String, String> env) {
        this(config, env, new EgressMetrics(), PacHost.SYSTEM, Ticker.SYSTEM);
    }

    public ProxyPlanner(EgressConfig config, Map<String, String> env, EgressMetrics metrics, PacHost pacHost, Ticker ticker) {
        this.config = config;
        this.resolver = new ProxyResolver(config.proxy(), env);
        this.ejections = new ProxyEjections(ticker, config.proxy().ejectFor());
        for (UpstreamSettings u : config.upstreams().values()) {
            ProxyDecision d = resolver.resolve(UpstreamProxy.parse(u.name(), u.proxy()), u.url().getScheme(), u.host(), u.port());
            decisions.put(u.name(), d);
            if (!d.failed() && !d.pac()) routes.put(u.name(), route(d));
        }
        this.pac = config.proxy().pac() != null ? new PacRunner(config.proxy(), pacHost, metrics) : null;
        this.kerberos = KerberosClient.of(config.proxyAuth(), env);
    }

    /** Schemes learned per proxy under {@code proxy.auth.scheme: auto}. */
    ProxyAuthenticator.Memory authMemory() { return authMemory; }

    /** The Kerberos login for Negotiate, or null when none is configured. */
    public KerberosClient kerberos() { return kerberos; }

    /** The first proxy for this upstream, or null for direct or PAC; a decision that failed (a bad HTTPS_PROXY) fails the attempt. */
    public ProxyHop hopFor(UpstreamSettings u) {
        ProxyDecision d = decisions.get(u.name());
        if (d != null && d.failed()) {
            throw new EgressException(ErrorCode.PROXY_UNREACHABLE, "no usable proxy for upstream \"" + u.name() + "\": " + d.reason());
        }
        ProxyRoute r = routes.get(u.name());
        return r == null ? null : r.first();
    }

    /**
     * Every leg this upstream's connection may take, in the order to try them (ejected proxies last). Completes at
     * once for fixed decisions; with PAC, on the PAC thread (the caller continues on its event loop).
     */
    public CompletableFuture<ProxyRoute> routeFor(UpstreamSettings u) {
        ProxyDecision d = decisions.get(u.name());
        if (d != null && d.failed()) {
            return CompletableFuture.failedFuture(new EgressException(ErrorCode.PROXY_UNREACHABLE,
                    "no usable proxy for upstream \"" + u.name() + "\": " + d.reason()));
        }
        ProxyRoute fixed = routes.get(u.name());
        if (fixed != null) return CompletableFuture.completedFuture(ordered(fixed));
        if (d == null || !d.pac() || pac == null) return CompletableFuture.completedFuture(ordered(route(ProxyDecision.direct("no decision"))));
        return pac.decide(u).thenApply(pd -> ordered(route(pd)));
    }

    public ProxyEjections ejections() { return ejections; }

    /** The PAC runner, or null without {@code proxy.pac}. */
    public PacRunner pac() { return pac; }

    public ProxyDecision decisionFor(String upstream) { return decisions.get(upstream); }

    /** The decision as it stands for this upstream, PAC evaluated (blocking: doctor only). */
    public ProxyDecision effectiveDecision(UpstreamSettings u, long timeoutMillis) throws Exception {
        ProxyDecision d = decisions.get(u.name());
        if (d == null || !d.pac() || pac == null) return d;
        return pac.decide(u).get(timeoutMillis, TimeUnit.MILLISECONDS);
    }

    public java.util.List<String> warnings() { return resolver.warnings(); }

    /** The decision for any URL, as explain-proxy prints it; blocks until a PAC answers (CLI only). */
    public Map<String, Object> explain(String url) {
        try {
            return explainAsync(url).get(30, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof IllegalArgumentException) throw (IllegalArgumentException) e.getCause();
            if (e.getCause() instanceof RuntimeException) throw (RuntimeException) e.getCause();
            throw new IllegalStateException(e.getCause());
        } catch (InterruptedException | java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("no PAC answer within 30s for " + shown(url));
        }
    }

    /** The decision for any URL; an upstream configured for that host lends its own setting. */
    public CompletableFuture<Map<String, Object>> explainAsync(String url) {
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
        String up = upstream;
        if (d.pac() && pac != null) {
            ProxyDecision asked = d;
            return pac.decide(scheme, u.getHost(), port).handle((pd, err) -> {
                if (err == null) return explained(url, pd, up, asked);
                Throwable c = err instanceof CompletionException && err.getCause() != null ? err.getCause() : err;
                Map<String, Object> out = explained(url, ProxyDecision.failed(asked.reason()), up, asked);
                out.put("reason", c.getMessage());
                return out;
            });
        }
        return CompletableFuture.completedFuture(explained(url, d, upstream, null));
    }

    private Map<String, Object> explained(String url, ProxyDecision d, String upstream, ProxyDecision askedPac) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("url", shown(url));
        ProxyRoute r = d.failed() ? null : ordered(route(d));
        out.put("proxy", r == null || r.first() == null ? null : r.first().masked());
        out.put("reason", d.reason());
        String auth = r == null ? null : authOf(r.first());
        if (auth != null) out.put("auth", auth);
        if (upstream != null) out.put("upstream", upstream);
        if (d.failed()) out.put("failed", true);
        if (r != null && (r.isFailover() || askedPac != null)) {
            List<Map<String, Object>> legs = new ArrayList<>();
            for (ProxyRoute.Leg leg : r.legs()) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("proxy", leg.hop() == null ? "DIRECT" : leg.hop().masked());
                m.put("from", leg.step().source());
                if (ejections.isEjected(leg.step())) m.put("ejected_for_ms", TimeUnit.NANOSECONDS.toMillis(ejections.remainingNanos(leg.step())));
                legs.add(m);
            }
            out.put("failover", legs);
            out.put("used", legs.get(0).get("from")); // the entry the next connection takes (ejected ones last)
        }
        if (askedPac != null && pac != null) {
            PacEngine.Status st = pac.status();
            out.put("pac", pacStatus(st));
        }
        return out;
    }

    /** The proxy auth scheme for explain-proxy and doctor; under auto, the one learned from the proxy's offers. */
    public String authOf(ProxyHop hop) {
        if (hop == null || !hop.isHttp()) return null;
        String s = hop.authScheme();
        if (s.equals("auto")) {
            var learned = authMemory.get(hop);
            return "auto: " + (learned == null ? "not negotiated yet (the proxy's first 407 decides)"
                    : learned.key() + " (the strongest scheme the proxy offered that we can answer)");
        }
        if (s.equals("basic")) return hop.username() == null ? "none" : "basic";
        return s;
    }

    static Map<String, Object> pacStatus(PacEngine.Status st) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("location", st.location());
        m.put("loaded_at", st.loadedAt() == null ? null : st.loadedAt().toString());
        if (st.lastError() != null) m.put("last_error", st.lastError());
        return m;
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

    private ProxyRoute ordered(ProxyRoute r) {
        if (!r.isFailover()) return r;
        List<ProxyStep> steps = new ArrayList<>();
        Map<ProxyStep, ProxyRoute.Leg> byStep = new LinkedHashMap<>();
        for (ProxyRoute.Leg l : r.legs()) {
            steps.add(l.step());
            byStep.put(l.step(), l);
        }
        List<ProxyStep> order = ejections.order(steps);
        if (order == steps) return r;
        List<ProxyRoute.Leg> legs = new ArrayList<>();
        for (ProxyStep s : order) legs.add(byStep.get(s));
        return new ProxyRoute(legs, r.reason());
    }

    private ProxyRoute route(ProxyDecision d) {
        List<ProxyRoute.Leg> legs = new ArrayList<>();
        for (ProxyStep s : d.steps()) legs.add(new ProxyRoute.Leg(s.proxy() == null ? null : hop(s.proxy(), config.proxyAuth()), s));
        if (legs.isEmpty()) legs.add(new ProxyRoute.Leg(null, ProxyStep.direct(d.reason())));
        return new ProxyRoute(legs, d.reason());
    }

    /** A proxy URL without userinfo takes {@code proxy.auth}'s credentials, if any; every HTTP proxy takes its scheme. */
    static ProxyHop hop(ProxyUrl p, ProxyCredentials auth) {
        if (p.username() == null && auth.present()) {
            String masked = p.scheme().text() + "://" + auth.username() + ":***@" + p.authority();
            return new ProxyHop(p.scheme().text(), p.host(), p.port(), auth.username(), auth.password(), masked, auth);
        }
        ProxyCredentials scheme = p.username() == null ? auth
                : new ProxyCredentials(p.username(), p.password(), auth.scheme(), auth.domain(), auth.principal(), auth.keytab(), auth.spn());
        return new ProxyHop(p.scheme().text(), p.host(), p.port(), p.username(), p.password(), p.masked(), scheme);
    }

    @Override
    public void close() {
        if (pac != null) pac.close();
        if (kerberos != null) kerberos.close();
    }
}
