package io.modelegress.server.http;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;

/** Strips hop-by-hop headers (RFC 9110 7.6.1): Connection and what it names, Keep-Alive, Proxy-*, TE, Trailer, Transfer-Encoding, Upgrade. */
public final class HopByHop {
    /** The fixed hop-by-hop names (what Connection names comes on top); {@link RequestHeaderFilter} drops them too. */
    static final AsciiString[] FIXED = {
        HttpHeaderNames.CONNECTION, HttpHeaderNames.KEEP_ALIVE, HttpHeaderNames.PROXY_AUTHENTICATE,
        HttpHeaderNames.PROXY_AUTHORIZATION, AsciiString.cached("proxy-connection"), HttpHeaderNames.TE,
        HttpHeaderNames.TRAILER, HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderNames.UPGRADE,
    };

    private HopByHop() {}

    public static void strip(HttpHeaders h) {
        String connection = h.get(HttpHeaderNames.CONNECTION);
        if (connection != null) {
            for (String value : h.getAll(HttpHeaderNames.CONNECTION)) {
                int start = 0;
                while (start < value.length()) {
                    int comma = value.indexOf(',', start);
                    int end = comma < 0 ? value.length() : comma;
                    String token = value.substring(start, end).trim();
                    if (!token.isEmpty()) h.remove(token);
                    start = end + 1;
                }
            }
        }
        for (AsciiString name : FIXED) h.remove(name);
        // Any other Proxy-* header is meant for us or a proxy, never for the upstream.
        removePrefixed(h, "proxy-");
    }

    /**
     * Removes every header whose name starts with {@code prefix} (lower case, compared ignoring case). One pass, no
     * copies, in the common case of none at all.
     */
    public static void removePrefixed(HttpHeaders h, String prefix) {
        int n = prefix.length();
        var it = h.iteratorCharSequence();
        boolean any = false;
        while (it.hasNext()) {
            CharSequence name = it.next().getKey();
            if (name.length() > n && AsciiString.regionMatches(name, true, 0, prefix, 0, n)) {
                any = true;
                break;
            }
        }
        if (any) h.names().stream().filter(x -> x.length() > n && x.regionMatches(true, 0, prefix, 0, n)).toList().forEach(h::remove);
    }
}
