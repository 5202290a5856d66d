package io.modelegress.server.upstream;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import java.nio.charset.StandardCharsets;

/**
 * Requests whose answer may be a stream ask the upstream for {@code identity}: a compressed event stream can only
 * be relayed whole or not at all, so gzip would turn token-by-token delivery into one burst at the end and lose the
 * tokens already generated when the stream stalls. Non-streaming answers keep the agent's encoding (and pass
 * through compressed, byte for byte).
 */
final class StreamingRequests {
    private static final byte[] KEY = "\"stream\"".getBytes(StandardCharsets.US_ASCII);

    private StreamingRequests() {}

    /** Sets {@code accept-encoding: identity} when the agent asked for an encoding and the answer may stream. */
    static void preferIdentity(HttpHeaders h, ByteBuf body) {
        String encoding = h.get(HttpHeaderNames.ACCEPT_ENCODING);
        if (encoding == null || encoding.equalsIgnoreCase("identity")) return;
        String accept = h.get(HttpHeaderNames.ACCEPT);
        boolean eventStream = accept != null && accept.contains("text/event-stream");
        if (eventStream || saysStreamTrue(body)) h.set(HttpHeaderNames.ACCEPT_ENCODING, HttpHeaderValues.IDENTITY);
    }

    /**
     * Whether the body has {@code "stream": true} as a key and value (no JSON parse: a byte search). Inside a JSON
     * string the key's quotes would be escaped, so it is not matched there; a nested {@code "stream": true} (a tool
     * schema) matches too, which only costs that answer its compression.
     */
    static boolean saysStreamTrue(ByteBuf body) {
        int end = body.writerIndex();
        int n = KEY.length;
        for (int at = body.indexOf(body.readerIndex(), end, (byte) '"'); at >= 0 && at + n <= end;
             at = body.indexOf(at + 1, end, (byte) '"')) {
            if (!matches(body, at) || at > body.readerIndex() && body.getByte(at - 1) == '\\') continue;
            int i = skipSpace(body, at + n, end);
            if (i >= end || body.getByte(i) != ':') continue;
            i = skipSpace(body, i + 1, end);
            if (i + 4 <= end && body.getByte(i) == 't' && body.getByte(i + 1) == 'r' && body.getByte(i + 2) == 'u'
                    && body.getByte(i + 3) == 'e') return true;
        }
        return false;
    }

    private static boolean matches(ByteBuf b, int at) {
        for (int j = 1; j < KEY.length; j++) if (b.getByte(at + j) != KEY[j]) return false;
        return true;
    }

    private static int skipSpace(ByteBuf b, int i, int end) {
        while (i < end && isSpace(b.getByte(i))) i++;
        return i;
    }

    private static boolean isSpace(byte b) { return b == ' ' || b == '\t' || b == '\n' || b == '\r'; }
}
