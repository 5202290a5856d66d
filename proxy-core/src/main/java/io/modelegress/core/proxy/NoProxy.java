package io.modelegress.core.proxy;

import java.net.IDN;
import java.util.ArrayList;
import java.util.List;

/**
 * Which targets bypass the proxy: NO_PROXY and {@code proxy.no_proxy} entries, parsed once, plus the built-in
 * loopback rule. {@link #match} runs per request, so it allocates nothing for names and IPv4 literals.
 * The rules and why they were chosen: docs/no-proxy.md.
 */
public final class NoProxy {
    /** Source of the built-in entries: loopback never goes through a proxy, whatever NO_PROXY says. */
    public static final String LOOPBACK_RULE = "built-in loopback rule";

    // A proxy would see its own loopback, not ours: our admin port, in-pod services and local model servers must stay direct.
    private static final List<NoProxyEntry> LOOPBACK = List.of(
            NoProxyEntry.parse(LOOPBACK_RULE, "localhost"),   // and *.localhost (RFC 6761 6.3)
            NoProxyEntry.parse(LOOPBACK_RULE, "127.0.0.0/8"),
            NoProxyEntry.parse(LOOPBACK_RULE, "::1"));

    /** Nothing configured: only loopback is direct. */
    public static final NoProxy LOOPBACK_ONLY = builder().build();

    /**
     * The entry that matched: as written, where it came from (e.g. {@code NO_PROXY}, {@code proxy.no_proxy} or
     * {@link #LOOPBACK_RULE}) and its port, -1 when it applies to every port.
     */
    public record Match(String entry, String source, int port) {
        public boolean isLoopbackRule() {
            return LOOPBACK_RULE.equals(source);
        }

        /** One line for explain-proxy, e.g. {@code NO_PROXY entry ".svc.cluster.local" matches api.svc.cluster.local}. */
        public String explain(String host, int targetPort) {
            String target = port < 0 ? host : hostPort(host, targetPort);
            if (isLoopbackRule()) return target + " is loopback (" + LOOPBACK_RULE + " \"" + entry + "\"): always direct";
            return source + " entry \"" + entry + "\" matches " + target;
        }

        private static String hostPort(String host, int port) {
            boolean bare6 = host.indexOf(':') >= 0 && !host.startsWith("[");
            return (bare6 ? "[" + host + "]" : host) + ":" + port;
        }
    }

    private final NoProxyEntry[] names;
    private final NoProxyEntry[] ipv4;
    private final NoProxyEntry[] ipv6;
    private final NoProxyEntry any;
    private final List<String> entries;
    private final List<String> ignored;

    private NoProxy(List<NoProxyEntry> parsed, List<String> entries, List<String> ignored) {
        List<NoProxyEntry> all = new ArrayList<>(LOOPBACK);
        all.addAll(parsed);
        NoProxyEntry star = null;
        for (NoProxyEntry e : all) if (e.kind == NoProxyEntry.Kind.ANY && star == null) star = e;
        this.any = star;
        this.names = all.stream().filter(e -> e.kind == NoProxyEntry.Kind.DOMAIN).toArray(NoProxyEntry[]::new);
        this.ipv4 = all.stream().filter(e -> e.kind == NoProxyEntry.Kind.IPV4).toArray(NoProxyEntry[]::new);
        this.ipv6 = all.stream().filter(e -> e.kind == NoProxyEntry.Kind.IPV6).toArray(NoProxyEntry[]::new);
        this.entries = List.copyOf(entries);
        this.ignored = List.copyOf(ignored);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Splits an environment-style list on commas and whitespace; empty pieces are dropped. */
    public static List<String> split(String value) {
        List<String> out = new ArrayList<>();
        if (value == null) return out;
        int start = -1;
        for (int i = 0; i <= value.length(); i++) {
            boolean separator = i == value.length() || value.charAt(i) == ',' || Character.isWhitespace(value.charAt(i));
            if (separator && start >= 0) {
                out.add(value.substring(start, i));
                start = -1;
            } else if (!separator && start < 0) {
                start = i;
            }
        }
        return out;
    }

    /**
     * The first entry that sends {@code host:port} direct, or null when the proxy applies. {@code host} is a name or
     * an IP literal, with or without brackets or a trailing dot, in any case. Names are never resolved: a CIDR entry
     * matches only a target written as an IP address.
     */
    public Match match(String host, int port) {
        if (host == null) return null;
        int from = 0;
        int to = host.length();
        if (to > 2 && host.charAt(0) == '[' && host.charAt(to - 1) == ']') {
            from = 1;
            to--;
        } else if (to > 1 && host.charAt(to - 1) == '.') {
            to--;
        }
        if (from >= to) return null;
        long v4 = IpLiterals.parseIpv4(host, from, to);
        if (v4 >= 0) return matchIpv4(v4, port);
        int colon = host.indexOf(':', from);
        if (colon >= 0 && colon < to) {
            byte[] v6 = IpLiterals.parseIpv6(host, from, to); // IPv6 targets are rare: this small array is the only allocation
            return v6 == null ? null : matchIpv6(v6, port);
        }
        if (!isAscii(host, from, to)) {
            String ascii = toAscii(host.substring(from, to));
            if (ascii == null) return null;
            host = ascii;
            from = 0;
            to = ascii.length();
        }
        for (NoProxyEntry e : names) if (e.matchesName(host, from, to, port)) return e.match;
        return any == null ? null : any.match;
    }

    public boolean matches(String host, int port) {
        return match(host, port) != null;
    }

    /** The entries in force, as written (without the built-in loopback rule). */
    public List<String> entries() {
        return entries;
    }

    /** Environment entries that could not be parsed and were skipped, each with the reason. */
    public List<String> ignored() {
        return ignored;
    }

    private Match matchIpv4(long address, int port) {
        for (NoProxyEntry e : ipv4) if (e.matchesIpv4(address, port)) return e.match;
        return any == null ? null : any.match;
    }

    private Match matchIpv6(byte[] address, int port) {
        for (NoProxyEntry e : ipv6) if (e.matchesIpv6(address, port)) return e.match;
        long mapped = IpLiterals.mappedIpv4(address); // ::ffff:10.1.2.3 is 10.1.2.3 on the wire
        if (mapped >= 0) return matchIpv4(mapped, port);
        return any == null ? null : any.match;
    }

    private static boolean isAscii(String s, int from, int to) {
        for (int i = from; i < to; i++) if (s.charAt(i) >= 0x80) return false;
        return true;
    }

    private static String toAscii(String name) {
        try {
            return IDN.toASCII(name);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    /** Collects entries from several sources; config entries are validated, environment entries are best effort. */
    public static final class Builder {
        private final List<NoProxyEntry> parsed = new ArrayList<>();
        private final List<String> entries = new ArrayList<>();
        private final List<String> ignored = new ArrayList<>();

        private Builder() {}

        /** Adds a value we own (config): any bad entry is an error naming {@code source}, so start-up fails clearly. */
        public Builder addValidated(String source, String value) {
            for (String entry : split(value)) {
                try {
                    parsed.add(NoProxyEntry.parse(source, entry));
                    entries.add(entry);
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException(source + ": " + e.getMessage() + " (" + NoProxyEntry.EXPECTED + ")", e);
                }
            }
            return this;
        }

        /** Adds an inherited value (NO_PROXY): like curl and Go, a bad entry is skipped, but recorded in {@link #ignored()}. */
        public Builder addBestEffort(String source, String value) {
            for (String entry : split(value)) {
                try {
                    parsed.add(NoProxyEntry.parse(source, entry));
                    entries.add(entry);
                } catch (IllegalArgumentException e) {
                    ignored.add(source + " " + e.getMessage() + "; ignored");
                }
            }
            return this;
        }

        public NoProxy build() {
            return new NoProxy(parsed, entries, ignored);
        }
    }

    @Override
    public String toString() {
        return "NoProxy" + entries;
    }
}
