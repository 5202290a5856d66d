package io.modelegress.server.upstream;

import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpResponse;
import java.util.ArrayDeque;

/**
 * What a response holds before its commit point: its head and the body pieces that came so far, owned here until
 * they are written to the agent ({@link #writeTo}) or released ({@link #discard}), exactly once each.
 */
final class HeldResponse {
    private HttpResponse head;
    /** Made at the first piece held: a plain answer, written at its head, never needs one. */
    private ArrayDeque<HttpContent> pieces;
    private long bytes;

    void head(HttpResponse h) { head = h; }

    /** The head, while it is held (null once written or discarded, or when nothing was held). */
    HttpResponse head() { return head; }

    void add(HttpContent c) {
        if (pieces == null) pieces = new ArrayDeque<>(4);
        pieces.add(c);
        bytes += c.content().readableBytes();
    }

    /** The body held so far, copied (an error answer of at most a few KiB, for the retry policy to read). */
    byte[] body() {
        byte[] out = new byte[(int) Math.min(bytes, Integer.MAX_VALUE)];
        int at = 0;
        if (pieces == null) return out;
        for (HttpContent c : pieces) {
            int k = Math.min(c.content().readableBytes(), out.length - at);
            c.content().getBytes(c.content().readerIndex(), out, at, k);
            at += k;
        }
        return out;
    }

    /** Hands the head and then every piece to {@code relay}, in order. */
    void writeTo(ResponseRelay relay) {
        relay.write(head);
        head = null;
        while (pieces != null && !pieces.isEmpty()) relay.write(pieces.poll());
    }

    void discard() {
        while (pieces != null && !pieces.isEmpty()) pieces.poll().release();
        head = null;
    }
}
