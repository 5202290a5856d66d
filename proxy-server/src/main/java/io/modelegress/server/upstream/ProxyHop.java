package io.modelegress.server.upstream;

import io.modelegress.core.config.ProxyCredentials;

/**
 * The proxy a connection goes through, as the connector needs it. {@code masked} is the only form that may be
 * logged or shown (credentials hidden). {@code auth} is {@code proxy.auth}: the scheme (basic, ntlm, negotiate,
 * auto) and its NTLM/Kerberos settings; {@code username}/{@code password} are those of the URL or of proxy.auth.
 */
public record ProxyHop(String scheme, String host, int port, String username, String password, String masked,
                       ProxyCredentials auth) {
    public ProxyHop(String scheme, String host, int port, String username, String password, String masked) {
        this(scheme, host, port, username, password, masked, ProxyCredentials.NONE);
    }

    public boolean isHttp() { return scheme.equals("http") || scheme.equals("https"); }

    public boolean isTls() { return scheme.equals("https"); }

    public boolean isSocks() { return scheme.startsWith("socks5"); }

    /** socks5h (and HTTP proxies) resolve the target name at the proxy. */
    public boolean resolvesAtProxy() { return !scheme.equals("socks5"); }

    /** {@code proxy.auth.scheme}: basic (the default), ntlm, negotiate or auto. */
    public String authScheme() { return auth.scheme(); }

    /** The {@code Proxy-Authorization} value (built when needed, never logged), or null without credentials. */
    public String basicAuth() {
        if (username == null) return null;
        String pair = username + ":" + (password == null ? "" : password);
        return "Basic " + java.util.Base64.getEncoder().encodeToString(pair.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    public String address() { return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port; }

    @Override
    public String toString() { return masked; }
}
