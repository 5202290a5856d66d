package io.modelegress.core.proxy;

import io.modelegress.core.config.ProxySettings;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Decides, per upstream connection, whether to go through a proxy and why. Most specific first:
 * the upstream's own {@code proxy} → {@code proxy.https}/{@code proxy.http} by target scheme (one URL or a failover
 * list) → {@code proxy.pac} (the decision says "ask the PAC"; the server evaluates it) → (with
 * {@code proxy.use_environment}) https_proxy/http_proxy, then all_proxy → none. NO_PROXY, {@code proxy.no_proxy} and
 * the loopback rule send a target direct past the global proxies, but never override an upstream's explicit proxy.
 * Immutable; everything is parsed at construction, so {@link #resolve} allocates nothing unless a target goes direct
 * by a NO_PROXY entry (the reason names the host).
 */
public final class ProxyResolver {
    private final NoProxy noProxy;
    private final SchemeRule https;
    private final SchemeRule http;
    private final List<String> warnings;

    /** What applies to one target scheme when the upstream inherits: a proxy (or a failure) subject to NO_PROXY, or none. */
    private record SchemeRule(ProxyDecision proxied, ProxyDecision unconfigured) {}

    /**
     * @param environment the process environment ({@code System.getenv()}), read only when {@code useEnvironment}
     * @throws IllegalArgumentException naming {@code proxy.https}, {@code proxy.http} or {@code proxy.no_proxy} when a
     *     config value is invalid; invalid environment values do not throw (see {@link #warnings()})
     */
    public ProxyResolver(ProxySettings settings, Map<String, String> environment) {
        Set<String> notes = new LinkedHashSet<>(); // an unusable ALL_PROXY would otherwise be reported per scheme
        NoProxy.Builder noProxyBuilder = NoProxy.builder();
        for (String entry : settings.noProxy()) noProxyBuilder.addValidated("proxy.no_proxy", entry);
        ProxyEnvironment env = null;
        if (settings.useEnvironment()) {
            env = new ProxyEnvironment(environment);
            ProxyEnvironment.Variable noProxyVariable = env.lookup("no_proxy");
            if (noProxyVariable != null) noProxyBuilder.addBestEffort(noProxyVariable.name(), noProxyVariable.value());
            notes.addAll(env.notes());
        }
        this.noProxy = noProxyBuilder.build();
        notes.addAll(noProxy.ignored());
        String pac = pacLocation(settings.pac());
        this.https = rule("https", "proxy.https", settings.httpsProxies(), pac, env, notes);
        this.http = rule("http", "proxy.http", settings.httpProxies(), pac, env, notes);
        this.warnings = List.copyOf(notes);
    }

    /** For an upstream that inherits the global rules. */
    public ProxyDecision resolve(String scheme, String host, int port) {
        return resolve(UpstreamProxy.INHERIT, scheme, host, port);
    }

    /** Parses the upstream's {@code proxy} setting on the spot; for explain-proxy, not the request path. */
    public ProxyDecision resolve(String upstreamName, String upstreamProxy, String scheme, String host, int port) {
        return resolve(UpstreamProxy.parse(upstreamName, upstreamProxy), scheme, host, port);
    }

    /**
     * @param scheme the target's scheme, {@code http} or {@code https}
     * @param port the target port; 0 or less means the scheme's default
     */
    public ProxyDecision resolve(UpstreamProxy upstream, String scheme, String host, int port) {
        SchemeRule rule;
        if ("https".equalsIgnoreCase(scheme)) rule = https;
        else if ("http".equalsIgnoreCase(scheme)) rule = http;
        else throw new IllegalArgumentException("scheme: " + scheme + " (expected: http or https)");
        if (!upstream.inherits()) return upstream.decision();
        if (rule.proxied() == null) return rule.unconfigured();
        int targetPort = port > 0 ? port : (rule == https ? 443 : 80);
        NoProxy.Match match = noProxy.match(host, targetPort);
        return match == null ? rule.proxied() : ProxyDecision.direct(match.explain(host, targetPort));
    }

    /** The combined {@code proxy.no_proxy} and NO_PROXY matcher in force. */
    public NoProxy noProxy() {
        return noProxy;
    }

    /** Environment values that were ignored or are unusable, each with the reason (for check-config and doctor). */
    public List<String> warnings() {
        return warnings;
    }

    private static SchemeRule rule(String scheme, String key, List<String> configured, String pac, ProxyEnvironment env,
                                   Set<String> notes) {
        if (!configured.isEmpty()) {
            List<ProxyStep> steps = new java.util.ArrayList<>();
            for (int i = 0; i < configured.size(); i++) {
                String entryKey = configured.size() == 1 ? key : key + "[" + i + "]";
                try {
                    steps.add(new ProxyStep(ProxyUrl.parse(configured.get(i)), entryKey));
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException(entryKey + ": " + e.getMessage(), e);
                }
            }
            if (steps.size() == 1) {
                ProxyUrl url = steps.get(0).proxy();
                return new SchemeRule(ProxyDecision.via(url, key + " (" + scheme + " upstream) = " + url.masked()), null);
            }
            StringBuilder why = new StringBuilder(key).append(" (").append(scheme).append(" upstream) = ");
            for (int i = 0; i < steps.size(); i++) why.append(i == 0 ? "" : ", then ").append(steps.get(i).label());
            return new SchemeRule(ProxyDecision.chain(steps, why.toString()), null);
        }
        if (pac != null) {
            return new SchemeRule(ProxyDecision.askPac("proxy.pac = " + ProxyUrl.redactCredentials(pac)), null);
        }
        if (env == null) {
            return new SchemeRule(null, ProxyDecision.direct("no proxy configured (" + key + " unset, proxy.use_environment off)"));
        }
        return environmentRule(scheme, env, notes);
    }

    /** {@code proxy.pac} as given, checked: {@code wpad}, or a file, http or https URL. */
    static String pacLocation(String pac) {
        if (pac == null || pac.isBlank()) return null;
        String v = pac.strip();
        String lower = v.toLowerCase(Locale.ROOT);
        if (lower.equals("wpad") || lower.startsWith("file:/") || lower.startsWith("http://") || lower.startsWith("https://")) {
            return lower.equals("wpad") ? "wpad" : v;
        }
        throw new IllegalArgumentException("proxy.pac: \"" + ProxyUrl.redactCredentials(v)
                + "\" (expected: file:///path/proxy.pac, http(s)://host/wpad.dat or wpad)");
    }

    private static SchemeRule environmentRule(String scheme, ProxyEnvironment env, Set<String> notes) {
        String specific = scheme + "_proxy";
        boolean cgi = scheme.equals("http") && env.httpProxyIgnoredUnderCgi();
        String unsetName = cgi ? specific : specific.toUpperCase(Locale.ROOT); // under CGI only http_proxy counts
        String cgiNote = cgi ? "; HTTP_PROXY ignored: REQUEST_METHOD is set (CGI, httpoxy)" : "";
        StringBuilder label = new StringBuilder(" (").append(scheme).append(" upstream");
        ProxyEnvironment.Variable variable = env.lookup(specific);
        if (variable == null) {
            variable = env.lookup("all_proxy");
            label.append("; ").append(unsetName).append(" unset").append(cgiNote);
        }
        if (variable == null) {
            return new SchemeRule(null, ProxyDecision.direct(
                    "no proxy configured (proxy.use_environment on; " + unsetName + ", ALL_PROXY unset" + cgiNote + ")"));
        }
        if (variable.shadowed() != null) label.append("; ").append(variable.shadowed()).append(" also set, lower case wins");
        label.insert(0, variable.name()).append(')');
        try {
            ProxyUrl url = ProxyUrl.parse(variable.value());
            return new SchemeRule(ProxyDecision.via(url, label + " = " + url.masked()), null);
        } catch (IllegalArgumentException e) {
            // curl and Python refuse a malformed proxy variable; Go silently goes direct. Refusing is the visible choice.
            String why = " is not usable: " + e.getMessage() + "; fix or unset it";
            notes.add(variable.name() + why);
            return new SchemeRule(ProxyDecision.failed(label + why), null);
        }
    }
}
