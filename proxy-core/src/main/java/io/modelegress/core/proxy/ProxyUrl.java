package io.modelegress.core.proxy;

import java.io.ByteArrayOutputStream;
import java.net.IDN;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Locale;

/**
 * A parsed egress proxy address: {@code [scheme://][user[:password]@]host[:port][/]}.
 * {@link #toString()} never shows the password; use {@link #basicAuthHeaderValue()} to send it.
 */
public record ProxyUrl(Scheme scheme, String host, int port, String username, String password) {

    private static final String EXPECTED = "expected: [http|https|socks5|socks5h://][user:password@]host[:port]";

    public enum Scheme {
        /** Plain HTTP proxy: CONNECT for https targets, absolute-form requests for http targets. */
        HTTP("http", 80),
        /** HTTP proxy reached over TLS. */
        HTTPS("https", 443),
        /** SOCKS5 with the target name resolved here, by the sidecar. */
        SOCKS5("socks5", 1080),
        /** SOCKS5 with the target name sent to, and resolved by, the proxy. */
        SOCKS5H("socks5h", 1080);

        private final String text;
        private final int defaultPort;

        Scheme(String text, int defaultPort) {
            this.text = text;
            this.defaultPort = defaultPort;
        }

        public String text() { return text; }

        public int defaultPort() { return defaultPort; }

        static Scheme of(String text) {
            for (Scheme s : values()) if (s.text.equals(text)) return s;
            return null;
        }
    }

    public ProxyUrl {
        if (scheme == null) throw new IllegalArgumentException("scheme: null (expected: a proxy scheme)");
        if (host == null || host.isEmpty()) throw new IllegalArgumentException("host: empty (expected: a host name or IP)");
        if (port < 1 || port > 65535) throw new IllegalArgumentException("port: " + port + " (expected: 1-65535)");
        if (username == null && password != null) throw new IllegalArgumentException("password without a user name");
    }

    /** Parses a proxy URL as written in config or in HTTPS_PROXY; no scheme means {@code http://}, as curl and Go do. */
    public static ProxyUrl parse(String text) {
        if (text == null || text.isBlank()) throw new IllegalArgumentException("proxy URL is empty (" + EXPECTED + ")");
        String s = text.strip();
        int schemeEnd = s.indexOf("://");
        Scheme scheme = Scheme.HTTP;
        String rest = s;
        if (schemeEnd >= 0) {
            String name = s.substring(0, schemeEnd).toLowerCase(Locale.ROOT);
            scheme = Scheme.of(name);
            if (scheme == null) {
                throw invalid(s, "unsupported proxy scheme \"" + name + "\" (expected: http, https, socks5 or socks5h)");
            }
            rest = s.substring(schemeEnd + 3);
        }
        int authorityEnd = indexOfAny(rest, "/?#");
        String authority = authorityEnd < 0 ? rest : rest.substring(0, authorityEnd);
        String tail = authorityEnd < 0 ? "" : rest.substring(authorityEnd);
        if (!tail.isEmpty() && !tail.equals("/")) {
            String why = tail.indexOf('@') >= 0
                    ? "the credentials seem to contain '/', '?' or '#': percent-encode them"
                    : "a proxy URL has no path, query or fragment";
            throw invalid(s, why);
        }
        String username = null;
        String password = null;
        int at = authority.lastIndexOf('@');
        if (at >= 0) {
            String userinfo = authority.substring(0, at);
            authority = authority.substring(at + 1);
            int colon = userinfo.indexOf(':');
            username = percentDecode(s, colon < 0 ? userinfo : userinfo.substring(0, colon));
            password = colon < 0 ? null : percentDecode(s, userinfo.substring(colon + 1));
            if (username.isEmpty() && (password == null || password.isEmpty())) {
                username = null;
                password = null;
            }
        }
        return hostAndPort(s, scheme, authority, username, password);
    }

    private static ProxyUrl hostAndPort(String s, Scheme scheme, String authority, String user, String password) {
        String host;
        String portText = null;
        if (authority.startsWith("[")) {
            int close = authority.indexOf(']');
            if (close < 0) throw invalid(s, "unclosed '[' in the host");
            host = authority.substring(1, close).toLowerCase(Locale.ROOT);
            if (IpLiterals.parseIpv6(host) == null) throw invalid(s, "\"" + host + "\" in brackets is not an IPv6 address");
            String after = authority.substring(close + 1);
            if (!after.isEmpty()) {
                if (after.charAt(0) != ':') throw invalid(s, "unexpected text after ']'");
                portText = after.substring(1);
            }
        } else {
            int colon = authority.indexOf(':');
            if (colon >= 0 && authority.indexOf(':', colon + 1) >= 0) {
                throw invalid(s, "an IPv6 proxy address needs brackets, as in http://[fd00::1]:3128");
            }
            host = colon < 0 ? authority : authority.substring(0, colon);
            portText = colon < 0 ? null : authority.substring(colon + 1);
            host = hostName(s, host);
        }
        if (host.isEmpty()) throw invalid(s, "no host");
        int port = portText == null || portText.isEmpty() ? scheme.defaultPort() : port(s, portText);
        return new ProxyUrl(scheme, host, port, user, password);
    }

    private static String hostName(String s, String host) {
        String ascii = host;
        if (!host.chars().allMatch(c -> c < 0x80)) {
            try {
                ascii = IDN.toASCII(host);
            } catch (IllegalArgumentException e) {
                throw invalid(s, "host \"" + host + "\" is not a valid name");
            }
        }
        for (int i = 0; i < ascii.length(); i++) {
            char c = ascii.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || c == '.' || c == '-' || c == '_';
            if (!ok) throw invalid(s, "host \"" + host + "\" has a character that is not allowed in a host name");
        }
        return ascii.toLowerCase(Locale.ROOT);
    }

    /** The port text is never echoed: in {@code http://user:PASSWORD} (the host left out) it is a password. */
    private static int port(String s, String text) {
        if (text.length() > 5 || !text.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw invalid(s, "the text after ':' is not a port number (expected: 1-65535; user:password goes before"
                    + " '@', as in http://user:password@proxy.corp:3128)");
        }
        int port = Integer.parseInt(text);
        if (port < 1 || port > 65535) throw invalid(s, "port " + port + " is out of range (expected: 1-65535)");
        return port;
    }

    /** RFC 3986 percent-decoding as UTF-8; unlike URLDecoder, '+' stays '+'. */
    private static String percentDecode(String s, String text) {
        if (text.indexOf('%') < 0) return text;
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(text.length());
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '%') {
                int hi = i + 2 < text.length() ? Character.digit(text.charAt(i + 1), 16) : -1;
                int lo = hi >= 0 ? Character.digit(text.charAt(i + 2), 16) : -1;
                if (lo < 0) throw invalid(s, "bad percent-escape in the credentials (expected: %XX with two hex digits)");
                bytes.write(hi * 16 + lo);
                i += 2;
            } else {
                int codePoint = text.codePointAt(i);
                bytes.writeBytes(new String(Character.toChars(codePoint)).getBytes(StandardCharsets.UTF_8));
                i += Character.charCount(codePoint) - 1;
            }
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }

    private static IllegalArgumentException invalid(String text, String why) {
        String expected = why.contains("(expected") ? "" : " (" + EXPECTED + ")";
        return new IllegalArgumentException("invalid proxy URL \"" + redactCredentials(text) + "\": " + why + expected);
    }

    private static int indexOfAny(String s, String chars) {
        for (int i = 0; i < s.length(); i++) if (chars.indexOf(s.charAt(i)) >= 0) return i;
        return -1;
    }

    /**
     * Hides credentials in text that may not parse as a URL (an invalid HTTPS_PROXY value still must not reach a log),
     * whatever its shape: in {@code user:password@} everything after the first ':' up to the last '@' becomes
     * {@code ***}, a user name alone ({@code TOKEN@}, often a token) becomes {@code ***}, and without an '@' whatever
     * follows the host's ':' unless it is a port ({@code http://user:PASSWORD} with the host left out).
     */
    public static String redactCredentials(String text) {
        if (text == null) return null;
        int schemeEnd = text.indexOf("://");
        int start = schemeEnd < 0 ? 0 : schemeEnd + 3;
        int at = text.lastIndexOf('@');
        if (at >= start) {
            int colon = text.indexOf(':', start);
            String userinfo = colon >= 0 && colon < at ? text.substring(start, colon + 1) + "***" : "***";
            return text.substring(0, start) + userinfo + "@" + redactNonPort(text.substring(at + 1), 0);
        }
        return redactNonPort(text, start);
    }

    /** Whatever follows the host's ':' in the authority starting at {@code start}, unless it is a port. */
    private static String redactNonPort(String text, int start) {
        int end = indexOfAny(text.substring(start), "/?#");
        end = end < 0 ? text.length() : start + end;
        String authority = text.substring(start, end);
        int close = authority.startsWith("[") ? authority.indexOf(']') : -1;
        int colon = authority.indexOf(':', Math.max(close, 0));
        if (colon < 0) return text;
        String after = authority.substring(colon + 1);
        boolean port = after.length() <= 5 && after.chars().allMatch(c -> c >= '0' && c <= '9');
        return port ? text : text.substring(0, start + colon + 1) + "***" + text.substring(end);
    }

    public boolean hasCredentials() {
        return username != null;
    }

    /**
     * True when the proxy, not the sidecar, resolves the target's name: HTTP(S) proxies receive the name in CONNECT,
     * socks5h sends it in the request; plain socks5 needs the sidecar to resolve it first.
     */
    public boolean resolvesAtProxy() {
        return scheme != Scheme.SOCKS5;
    }

    /** The {@code Proxy-Authorization} value, {@code Basic base64(user:password)}, or null without credentials. */
    public String basicAuthHeaderValue() {
        if (username == null) return null;
        String pair = username + ":" + (password == null ? "" : password);
        return "Basic " + Base64.getEncoder().encodeToString(pair.getBytes(StandardCharsets.UTF_8));
    }

    /** {@code host:port}, with brackets around an IPv6 host. */
    public String authority() {
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }

    /**
     * The URL with the password replaced by {@code ***}, and a user name without a password too (it is often a token):
     * safe for logs, explanations and /config. Host and port are always shown.
     */
    public String masked() {
        StringBuilder b = new StringBuilder(scheme.text).append("://");
        if (username != null) {
            b.append(password != null ? username + ":***" : "***");
            b.append('@');
        }
        return b.append(authority()).toString();
    }

    @Override
    public String toString() {
        return masked();
    }
}
