package io.modelegress.core.proxy;

/**
 * Strict IP-literal parsing over a slice of a string: no DNS (unlike {@code InetAddress.getByName}) and, for IPv4,
 * no allocation, because NO_PROXY matching runs on every request.
 */
public final class IpLiterals {
    private IpLiterals() {}

    /** Whether {@code s} is exactly one IPv4 or IPv6 literal (no brackets, no zone). */
    public static boolean isLiteral(String s) {
        return parseIpv4(s) >= 0 || parseIpv6(s) != null;
    }

    /**
     * Dotted-quad IPv4 as an unsigned 32-bit value, or -1 when {@code s[from, to)} is not exactly one.
     * Leading zeros are refused: some resolvers read {@code 010.0.0.1} as octal, so it is not the same address everywhere.
     */
    static long parseIpv4(CharSequence s, int from, int to) {
        long value = 0;
        int parts = 0;
        int i = from;
        while (true) {
            int start = i;
            int octet = 0;
            while (i < to && i - start < 4 && isDigit(s.charAt(i))) {
                octet = octet * 10 + (s.charAt(i) - '0');
                i++;
            }
            int digits = i - start;
            if (digits == 0 || digits > 3 || octet > 255 || (digits > 1 && s.charAt(start) == '0')) return -1;
            value = (value << 8) | octet;
            parts++;
            if (i == to) return parts == 4 ? value : -1;
            if (s.charAt(i) != '.' || parts == 4) return -1;
            i++;
        }
    }

    static long parseIpv4(String s) {
        return parseIpv4(s, 0, s.length());
    }

    /** The 16 bytes of an IPv6 literal (no brackets, no zone), or null when {@code s[from, to)} is not one. */
    static byte[] parseIpv6(CharSequence s, int from, int to) {
        if (to - from < 2) return null;
        byte[] out = new byte[16];
        int groups = 0;
        int gapAt = -1; // group index where "::" stands
        int i = from;
        if (s.charAt(i) == ':') {
            if (s.charAt(i + 1) != ':') return null;
            gapAt = 0;
            i += 2;
        }
        while (i < to) {
            if (groups == 8) return null;
            int start = i;
            int group = 0;
            while (i < to && i - start < 5 && hexValue(s.charAt(i)) >= 0) {
                group = (group << 4) | hexValue(s.charAt(i));
                i++;
            }
            if (i < to && s.charAt(i) == '.') { // an embedded IPv4 tail, as in ::ffff:10.1.2.3
                long v4 = groups <= 6 ? parseIpv4(s, start, to) : -1;
                if (v4 < 0) return null;
                for (int b = 0; b < 4; b++) out[groups * 2 + b] = (byte) (v4 >>> (24 - 8 * b));
                groups += 2;
                break;
            }
            if (i == start || i - start > 4) return null;
            out[groups * 2] = (byte) (group >>> 8);
            out[groups * 2 + 1] = (byte) group;
            groups++;
            if (i == to) break;
            if (s.charAt(i) != ':' || i + 1 == to) return null;
            i++;
            if (s.charAt(i) == ':') {
                if (gapAt >= 0) return null;
                gapAt = groups;
                i++;
            }
        }
        if (gapAt < 0) return groups == 8 ? out : null;
        if (groups == 8) return null;
        int shift = (8 - groups) * 2;
        System.arraycopy(out, gapAt * 2, out, gapAt * 2 + shift, (groups - gapAt) * 2);
        java.util.Arrays.fill(out, gapAt * 2, gapAt * 2 + shift, (byte) 0);
        return out;
    }

    static byte[] parseIpv6(String s) {
        return parseIpv6(s, 0, s.length());
    }

    /** The IPv4 address inside an IPv4-mapped IPv6 address (::ffff:a.b.c.d), or -1. */
    static long mappedIpv4(byte[] v6) {
        for (int i = 0; i < 10; i++) if (v6[i] != 0) return -1;
        if (v6[10] != (byte) 0xff || v6[11] != (byte) 0xff) return -1;
        return ((v6[12] & 0xffL) << 24) | ((v6[13] & 0xffL) << 16) | ((v6[14] & 0xffL) << 8) | (v6[15] & 0xffL);
    }

    /** Mask for the top {@code prefix} bits of an IPv4 address. */
    static long ipv4Mask(int prefix) {
        return prefix == 0 ? 0 : (0xffffffffL << (32 - prefix)) & 0xffffffffL;
    }

    static boolean sameIpv6Prefix(byte[] a, byte[] b, int prefix) {
        int whole = prefix / 8;
        for (int i = 0; i < whole; i++) if (a[i] != b[i]) return false;
        int rest = prefix % 8;
        if (rest == 0) return true;
        int mask = (0xff << (8 - rest)) & 0xff;
        return ((a[whole] ^ b[whole]) & mask) == 0;
    }

    /**
     * Whether the literal {@code ip} lies in {@code prefix} ({@code 10.0.0.0/8}, {@code fd00::/8}; no length means the
     * whole address). False for anything that is not a literal: PAC's isInNetEx must not throw on bad input.
     */
    public static boolean inPrefix(String ip, String prefix) {
        if (ip == null || prefix == null) return false;
        int slash = prefix.indexOf('/');
        String base = slash < 0 ? prefix.strip() : prefix.substring(0, slash).strip();
        int bits;
        try {
            bits = slash < 0 ? -1 : Integer.parseInt(prefix.substring(slash + 1).strip());
        } catch (NumberFormatException e) {
            return false;
        }
        long a4 = parseIpv4(ip.strip());
        long p4 = parseIpv4(base);
        if (a4 >= 0 && p4 >= 0) {
            int n = bits < 0 ? 32 : bits;
            if (n > 32) return false;
            long mask = ipv4Mask(n);
            return (a4 & mask) == (p4 & mask);
        }
        byte[] a6 = parseIpv6(ip.strip());
        byte[] p6 = parseIpv6(base);
        if (a6 == null || p6 == null) return false;
        int n = bits < 0 ? 128 : bits;
        return n <= 128 && sameIpv6Prefix(a6, p6, n);
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    private static int hexValue(char c) {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    }
}
