package io.modelegress.server.upstream;

/**
 * The proxy a connection goes through, as the connector needs it. {@code masked} is the only form that may be
 * logged or shown (credentials hidden).
 */
public record ProxyHop(String scheme, String host, int port, String username, String password, String masked) {
    public boolean isHttp() { return scheme.equals("http") || scheme.equals("https"); }

    public boolean isTls() { return scheme.equals("https"); }

    public boolean isSocks() { return scheme.startsWith("socks5"); }

    /** socks5h (and HTTP proxies) resolve the target name at the proxy. */
    public boolean resolvesAtProxy() { return !scheme.equals("socks5"); }

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
