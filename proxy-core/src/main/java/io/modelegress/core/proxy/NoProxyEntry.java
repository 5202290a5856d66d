package io.modelegress.core.proxy;

import java.net.IDN;
import java.util.Locale;

/**
 * One NO_PROXY entry, parsed once into the form the hot path compares against.
 * Domain names are kept lower-case ASCII (IDNA) so matching is a case-insensitive region compare with no allocation.
 */
final class NoProxyEntry {
    enum Kind { ANY, DOMAIN, IPV4, IPV6 }

    static final String EXPECTED = "expected: *, a host or domain (example.com, .example.com, *.example.com),"
            + " an IP address, or a CIDR block (10.0.0.0/8, fd00::/8); host and IP may add :port";

    final Kind kind;
    final NoProxy.Match match;  // built once so a hit allocates nothing
    final String domain;        // DOMAIN: no leading or trailing dot
    final boolean matchesApex;  // DOMAIN: false for "*.example.com", which wants at least one more label
    final long ipv4;            // IPV4: network address
    final byte[] ipv6;          // IPV6: network address
    final int prefix;           // IPV4/IPV6: prefix length
    final int port;             // -1: every port

    private NoProxyEntry(String source, String text, Kind kind, String domain, boolean matchesApex,
                         long ipv4, byte[] ipv6, int prefix, int port) {
        this.kind = kind;
        this.match = new NoProxy.Match(text, source, port);
        this.domain = domain;
        this.matchesApex = matchesApex;
        this.ipv4 = ipv4;
        this.ipv6 = ipv6;
        this.prefix = prefix;
        this.port = port;
    }

    /** Parses one trimmed, non-empty entry; throws IllegalArgumentException saying what is wrong with it. */
    static NoProxyEntry parse(String source, String text) {
        if (text.equals("*")) return new NoProxyEntry(source, text, Kind.ANY, null, true, 0, null, 0, -1);
        if (text.contains("://")) throw invalid(text, "looks like a URL; write only the host, e.g. \"example.com\"");
        int slash = text.indexOf('/');
        if (slash >= 0) return cidr(source, text, slash);
        if (text.startsWith("[")) {
            int close = text.indexOf(']');
            if (close < 0) throw invalid(text, "unclosed '['");
            byte[] v6 = IpLiterals.parseIpv6(text, 1, close);
            if (v6 == null) throw invalid(text, "brackets must hold an IPv6 address");
            String after = text.substring(close + 1);
            if (!after.isEmpty() && after.charAt(0) != ':') throw invalid(text, "unexpected text after ']'");
            int port = after.isEmpty() ? -1 : port(text, after.substring(1));
            return new NoProxyEntry(source, text, Kind.IPV6, null, true, 0, v6, 128, port);
        }
        int colon = text.indexOf(':');
        if (colon >= 0 && text.indexOf(':', colon + 1) >= 0) {
            // Two or more colons without brackets can only be an IPv6 address, never address:port.
            byte[] v6 = IpLiterals.parseIpv6(text);
            if (v6 == null) throw invalid(text, "not an IPv6 address (write [address]:port to add a port)");
            return new NoProxyEntry(source, text, Kind.IPV6, null, true, 0, v6, 128, -1);
        }
        String host = colon < 0 ? text : text.substring(0, colon);
        int port = colon < 0 ? -1 : port(text, text.substring(colon + 1));
        if (host.length() > 1 && host.endsWith(".")) host = host.substring(0, host.length() - 1);
        long v4 = IpLiterals.parseIpv4(host);
        if (v4 >= 0) return new NoProxyEntry(source, text, Kind.IPV4, null, true, v4, null, 32, port);
        return domain(source, text, host, port);
    }

    private static NoProxyEntry domain(String source, String text, String host, int port) {
        boolean apex = true;
        String name = host;
        if (name.startsWith("*.")) {
            apex = false;
            name = name.substring(2);
        } else if (name.startsWith(".")) {
            name = name.substring(1); // curl's rule: a leading dot is ignored, so ".example.com" covers example.com too
        }
        if (name.isEmpty() || name.equals("*")) throw invalid(text, "no host or domain"); // "*." arrives here as "*"
        if (name.indexOf('*') >= 0) throw invalid(text, "'*' is allowed only alone or as a leading \"*.\"");
        if (!name.chars().allMatch(c -> c < 0x80)) {
            try {
                name = IDN.toASCII(name);
            } catch (IllegalArgumentException e) {
                throw invalid(text, "not a valid international domain name");
            }
        }
        name = name.toLowerCase(Locale.ROOT);
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'
                    || (c == '.' && i > 0 && name.charAt(i - 1) != '.' && i < name.length() - 1);
            if (!ok) throw invalid(text, "'" + c + "' is not allowed in a host name here");
        }
        return new NoProxyEntry(source, text, Kind.DOMAIN, name, apex, 0, null, 0, port);
    }

    private static NoProxyEntry cidr(String source, String text, int slash) {
        int from = 0;
        int to = slash;
        if (text.startsWith("[") && slash > 0 && text.charAt(slash - 1) == ']') {
            from = 1;
            to = slash - 1;
        }
        String bits = text.substring(slash + 1);
        if (bits.isEmpty() || bits.length() > 3 || !bits.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw invalid(text, "the prefix length after '/' is not a number");
        }
        int prefix = Integer.parseInt(bits);
        long v4 = IpLiterals.parseIpv4(text, from, to);
        if (v4 >= 0) {
            if (prefix > 32) throw invalid(text, "an IPv4 prefix length is 0-32");
            return new NoProxyEntry(source, text, Kind.IPV4, null, true, v4 & IpLiterals.ipv4Mask(prefix), null, prefix, -1);
        }
        byte[] v6 = IpLiterals.parseIpv6(text, from, to);
        if (v6 == null) throw invalid(text, "a CIDR block needs an IP address before '/'");
        if (prefix > 128) throw invalid(text, "an IPv6 prefix length is 0-128");
        return new NoProxyEntry(source, text, Kind.IPV6, null, true, 0, v6, prefix, -1);
    }

    private static int port(String text, String port) {
        if (port.isEmpty() || port.length() > 5 || !port.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw invalid(text, "the port is not a number");
        }
        int value = Integer.parseInt(port);
        if (value < 1 || value > 65535) throw invalid(text, "the port is out of range 1-65535");
        return value;
    }

    private static IllegalArgumentException invalid(String text, String why) {
        return new IllegalArgumentException("entry \"" + text + "\": " + why);
    }

    /** Host name in {@code host[from, to)}, already stripped of a trailing dot; compares without allocating. */
    boolean matchesName(String host, int from, int to, int targetPort) {
        if (port >= 0 && port != targetPort) return false;
        if (kind == Kind.ANY) return true;
        if (kind != Kind.DOMAIN) return false;
        int length = to - from;
        int d = domain.length();
        if (length == d) return matchesApex && host.regionMatches(true, from, domain, 0, d);
        return length > d && host.charAt(to - d - 1) == '.' && host.regionMatches(true, to - d, domain, 0, d);
    }

    boolean matchesIpv4(long address, int targetPort) {
        if (port >= 0 && port != targetPort) return false;
        if (kind == Kind.ANY) return true;
        return kind == Kind.IPV4 && ((address ^ ipv4) & IpLiterals.ipv4Mask(prefix)) == 0;
    }

    boolean matchesIpv6(byte[] address, int targetPort) {
        if (port >= 0 && port != targetPort) return false;
        if (kind == Kind.ANY) return true;
        return kind == Kind.IPV6 && IpLiterals.sameIpv6Prefix(address, ipv6, prefix);
    }
}
