package io.modelegress.server.downstream;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;
import java.util.List;

/** Strips hop-by-hop headers (RFC 9110 7.6.1): Connection and what it names, Keep-Alive, Proxy-*, TE, Trailer, Transfer-Encoding, Upgrade. */
public final class HopByHop {
    private static final AsciiString[] FIXED = {
        HttpHeaderNames.CONNECTION, HttpHeaderNames.KEEP_ALIVE, HttpHeaderNames.PROXY_AUTHENTICATE,
        HttpHeaderNames.PROXY_AUTHORIZATION, AsciiString.cached("proxy-connection"), HttpHeaderNames.TE,
        HttpHeaderNames.TRAILER, HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderNames.UPGRADE,
    };

    private HopByHop() {}

    public static void strip(HttpHeaders h) {
        List<String> named = h.getAll(HttpHeaderNames.CONNECTION);
        for (String value : named) {
            for (String token : value.split(",")) {
                String t = token.trim();
                if (!t.isEmpty()) h.remove(t);
            }
        }
        for (AsciiString name : FIXED) h.remove(name);
        if (!h.isEmpty()) {
            // Any other Proxy-* header is meant for us or a proxy, never for the upstream.
            h.names().stream().filter(n -> n.regionMatches(true, 0, "proxy-", 0, 6)).toList().forEach(h::remove);
        }
    }
}
