package io.modelegress.server.http;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

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
        List<String> named = connectionTokens(h);
        for (int i = 0; i < named.size(); i++) h.remove(named.get(i));
        for (AsciiString name : FIXED) h.remove(name);
        // Any other Proxy-* header is meant for us or a proxy, never for the upstream.
        removePrefixed(h, "proxy-");
    }

    /**
     * The header names the Connection header lists, less those {@link #FIXED} removes anyway: an empty list, not
     * allocated, in the usual case ({@code keep-alive}). The values are walked in place, not copied into a list.
     */
    static List<String> connectionTokens(HttpHeaders h) {
        if (!h.contains(HttpHeaderNames.CONNECTION)) return List.of();
        List<String> tokens = List.of();
        Iterator<String> values = h.valueStringIterator(HttpHeaderNames.CONNECTION);
        while (values.hasNext()) {
            String value = values.next();
            int start = 0;
            while (start < value.length()) {
                int comma = value.indexOf(',', start);
                int end = comma < 0 ? value.length() : comma;
                String token = value.substring(start, end).trim(); // the value itself when it is one bare token
                start = end + 1;
                if (token.isEmpty() || fixed(token)) continue;
                if (tokens.isEmpty()) tokens = new ArrayList<>(2);
                tokens.add(token);
            }
        }
        return tokens;
    }

    private static boolean fixed(String name) {
        for (AsciiString f : FIXED) if (f.length() == name.length() && f.contentEqualsIgnoreCase(name)) return true;
        return false;
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
