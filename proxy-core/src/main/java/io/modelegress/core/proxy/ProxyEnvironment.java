package io.modelegress.core.proxy;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The proxy variables of one environment, read once. Both cases are accepted; when both are set the lower-case one
 * wins, as in curl and Python (Go prefers upper case; evidence in docs/no-proxy.md). Empty values count as unset.
 */
final class ProxyEnvironment {
    /** A variable as found: the name used, its value, and the other-case name when that was set too and lost. */
    record Variable(String name, String value, String shadowed) {}

    private final Map<String, String> env; // only read while the resolver is being built
    private final boolean cgi;
    private final boolean httpProxyIgnored;
    private final List<String> notes = new ArrayList<>();

    ProxyEnvironment(Map<String, String> env) {
        this.env = env;
        // Under CGI, a client's "Proxy:" header arrives as HTTP_PROXY (httpoxy, CVE-2016-5385): never trust it there.
        this.cgi = nonEmpty(env.get("REQUEST_METHOD")) != null;
        this.httpProxyIgnored = cgi && nonEmpty(env.get("HTTP_PROXY")) != null;
        if (httpProxyIgnored) {
            notes.add("HTTP_PROXY ignored: REQUEST_METHOD is set, so it may come from a client's Proxy header (CGI, httpoxy)");
        }
    }

    /** {@code name} as written in lower case, e.g. {@code https_proxy}; null when neither case is set. */
    Variable lookup(String lowerName) {
        String upperName = lowerName.toUpperCase(Locale.ROOT);
        String lower = nonEmpty(env.get(lowerName));
        boolean upperTrusted = !(cgi && upperName.equals("HTTP_PROXY"));
        String upper = upperTrusted ? nonEmpty(env.get(upperName)) : null;
        if (lower != null) return new Variable(lowerName, lower, upper == null ? null : upperName);
        return upper == null ? null : new Variable(upperName, upper, null);
    }

    /** Why something in this environment was not used (for warnings and explanations). */
    List<String> notes() {
        return List.copyOf(notes);
    }

    boolean httpProxyIgnoredUnderCgi() {
        return httpProxyIgnored;
    }

    private static String nonEmpty(String value) {
        return value == null || value.isBlank() ? null : value.strip();
    }
}
