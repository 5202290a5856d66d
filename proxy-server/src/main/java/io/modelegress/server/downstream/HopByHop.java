package io.modelegress.server.downstream;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;

/** Strips hop-by-hop headers (RFC 9110 7.6.1): Connection and what it names, Keep-Alive, Proxy-*, TE, Trailer, Transfer-Encoding, Upgrade. */
public final class HopByHop {
    private static final AsciiString[] FIXED = {
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
        // Any other Proxy-* header is meant for us or a proxy, never for the upstream. One pass, no copies, in the
        // common case of none at all.
        var it = h.iteratorCharSequence();
        boolean anyProxy = false;
        while (it.hasNext()) {
            CharSequence n = it.next().getKey();
            if (n.length() > 6 && AsciiString.regionMatches(n, true, 0, "proxy-", 0, 6)) {
                anyProxy = true;
                break;
            }
        }
        if (anyProxy) h.names().stream().filter(n -> n.regionMatches(true, 0, "proxy-", 0, 6)).toList().forEach(h::remove);
    }
}
