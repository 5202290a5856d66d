package io.modelegress.core.config;

/** A listen or server address: host (name or IP literal, no brackets) and port. */
public record HostPort(String host, int port) {
    /** Parses {@code host:port}, {@code [v6]:port}; returns null when the text is not of that form. */
    public static HostPort parse(String text) {
        if (text == null) return null;
        String s = text.trim();
        int colon;
        String host;
        if (s.startsWith("[")) {
            int close = s.indexOf(']');
            if (close < 0 || close + 1 >= s.length() || s.charAt(close + 1) != ':') return null;
            host = s.substring(1, close);
            colon = close + 1;
        } else {
            colon = s.lastIndexOf(':');
            if (colon <= 0 || s.indexOf(':') != colon) return null;
            host = s.substring(0, colon);
        }
        try {
            int port = Integer.parseInt(s.substring(colon + 1));
            if (port < 0 || port > 65535 || host.isEmpty()) return null;
            return new HostPort(host, port);
        } catch (NumberFormatException e) {
            return null;
        }
    }

    @Override
    public String toString() {
        return host.indexOf(':') >= 0 ? "[" + host + "]:" + port : host + ":" + port;
    }
}
