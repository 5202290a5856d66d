package io.modelegress.server.http;

import io.modelegress.core.route.AgentHeaders;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;
import java.util.List;
import java.util.Map;

/**
 * The agent's request headers an upstream may see, in one pass: each header is copied unless it is hop-by-hop
 * ({@link HopByHop}: Connection and what it names, Proxy-*, TE, ...), always dropped ({@link AgentHeaders#ALWAYS}),
 * listed in the route's {@code strip_request_headers}, Host or Expect (set by us), one of our own {@code x-egress-*}
 * instructions, or (when we inject a credential) one of the agent's {@link AgentHeaders#CREDENTIALS}.
 * Same result as copying all and removing each name in turn, which cost a hash lookup per name per request and a
 * header entry for every header dropped.
 */
public final class RequestHeaderFilter {
    /** Hop-by-hop ({@link HopByHop#FIXED}), and Host and Expect, which we set ourselves. */
    private static final AsciiString[] DROPPED = java.util.stream.Stream.concat(java.util.Arrays.stream(HopByHop.FIXED),
            java.util.stream.Stream.of(HttpHeaderNames.HOST, HttpHeaderNames.EXPECT)).toArray(AsciiString[]::new);
    private static final AsciiString[] CREDENTIALS = names(AgentHeaders.CREDENTIALS.toArray(String[]::new));
    private static final AsciiString[] ALWAYS = names(AgentHeaders.ALWAYS.toArray(String[]::new));
    private static final String PROXY_PREFIX = "proxy-";
    /**
     * Names are not checked again: the agent's were by the decoder, ours are constants or checked at config load
     * (an upstream's auth header). Values still are, so a secret with a line break cannot split a header.
     */
    private static final DefaultHttpHeadersFactory HEADERS = DefaultHttpHeadersFactory.headersFactory().withNameValidation(false);

    private RequestHeaderFilter() {}

    /** The headers to send upstream (a new, mutable set whose values are checked: see {@link #HEADERS}). */
    public static HttpHeaders forUpstream(HttpHeaders in, List<String> routeStrips, boolean dropCredentials) {
        List<String> named = HopByHop.connectionTokens(in);
        HttpHeaders out = HEADERS.newHeaders();
        var it = in.iteratorCharSequence();
        while (it.hasNext()) {
            Map.Entry<CharSequence, CharSequence> e = it.next();
            CharSequence name = e.getKey();
            if (dropped(name, routeStrips, dropCredentials, named)) continue;
            out.add(name, e.getValue());
        }
        return out;
    }

    private static boolean dropped(CharSequence name, List<String> routeStrips, boolean dropCredentials, List<String> named) {
        if (in(DROPPED, name) || in(ALWAYS, name)) return true;
        if (startsWith(name, PROXY_PREFIX) || startsWith(name, ErrorResponses.X_EGRESS_PREFIX)) return true;
        if (dropCredentials && in(CREDENTIALS, name)) return true;
        for (int i = 0; i < routeStrips.size(); i++) if (AsciiString.contentEqualsIgnoreCase(name, routeStrips.get(i))) return true;
        for (int i = 0; i < named.size(); i++) if (AsciiString.contentEqualsIgnoreCase(name, named.get(i))) return true;
        return false;
    }

    private static boolean in(AsciiString[] names, CharSequence name) {
        int n = name.length();
        for (AsciiString a : names) if (a.length() == n && a.contentEqualsIgnoreCase(name)) return true;
        return false;
    }

    /** Longer than {@code prefix} and starting with it, ignoring case (a bare "proxy-" is not a Proxy-* header). */
    private static boolean startsWith(CharSequence name, String prefix) {
        int n = prefix.length();
        return name.length() > n && AsciiString.regionMatches(name, true, 0, prefix, 0, n);
    }

    private static AsciiString[] names(String... names) {
        AsciiString[] a = new AsciiString[names.length];
        for (int i = 0; i < names.length; i++) a[i] = AsciiString.cached(names[i]);
        return a;
    }
}
