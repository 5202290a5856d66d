package io.modelegress.server.upstream;

import io.netty.handler.codec.http2.Http2Error;
import java.io.IOException;

/**
 * An HTTP/2 stream ended by the upstream: a {@code RST_STREAM}, or a {@code GOAWAY} whose last-stream-id is below
 * it. {@link #unprocessed} (GOAWAY, or {@code REFUSED_STREAM}: RFC 9113 §8.7) means the server never acted on the
 * request, so it is replayed on another connection like a stale keep-alive one.
 */
final class H2StreamReset extends IOException {
    private final boolean unprocessed;

    private H2StreamReset(String message, boolean unprocessed) {
        super(message);
        this.unprocessed = unprocessed;
    }

    static H2StreamReset reset(long errorCode) {
        Http2Error e = Http2Error.valueOf(errorCode);
        String name = e == null ? "0x" + Long.toHexString(errorCode) : e.name();
        return new H2StreamReset("HTTP/2 stream reset, " + name, e == Http2Error.REFUSED_STREAM);
    }

    static H2StreamReset goAway(int lastStreamId) {
        return new H2StreamReset("HTTP/2 GOAWAY, last stream " + lastStreamId + ": this stream was not processed", true);
    }

    boolean unprocessed() { return unprocessed; }

    static boolean unprocessed(Throwable t) { return t instanceof H2StreamReset && ((H2StreamReset) t).unprocessed; }
}
