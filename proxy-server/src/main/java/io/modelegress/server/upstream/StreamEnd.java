package io.modelegress.server.upstream;

import io.modelegress.core.error.EgressException;
import io.modelegress.core.error.ErrorCode;
import io.modelegress.server.http.RequestContext;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpContent;
import java.nio.charset.StandardCharsets;

/**
 * How an event stream the {@link ResponseReader} relays ends: at its last content (cut by the upstream: the attempt
 * fails; finished without its end marker: the marker the SDKs expect is added), or, once committed, at an in-band
 * error event a resume continues from. Each takes ownership of the content it is given.
 */
final class StreamEnd {
    private StreamEnd() {}

    /**
     * The last content of an SSE stream: one the upstream cut fails the attempt ({@link StreamWatch#cutReason});
     * one finished without its end marker gets the marker. Returns what to relay as the last content, or null when
     * the attempt failed here.
     */
    static HttpContent last(HttpContent c, StreamWatch stream, Channel upstream, RequestContext rc, AttemptControl attempt) {
        String cut = stream.cutReason(upstream.isActive());
        if (cut != null) {
            stream.lostTail(c.content().isReadable()); // scanned but never forwarded: the agent does not have it
            c.release();
            attempt.fail(new EgressException(ErrorCode.UPSTREAM_RESET, "upstream \"" + rc.upstream + "\" ended the stream "
                    + "before the answer was finished (" + cut + ")"));
            return null;
        }
        String marker = stream.completion().missingEndMarker();
        if (marker == null) return c;
        ByteBuf tail = Unpooled.copiedBuffer(marker, StandardCharsets.US_ASCII);
        rc.bytesOut += tail.readableBytes();
        return new DefaultLastHttpContent(Unpooled.wrappedBuffer(c.content(), tail));
    }

    /** A committed stream hit an in-band error: what came before it goes out, the rest is a failure resume continues. */
    static void atInBandError(HttpContent c, StreamWatch stream, ResponseRelay relay, RequestContext rc, AttemptControl attempt) {
        int keep = stream.inBandErrorAt() - c.content().readerIndex();
        if (keep > 0) relay.write(new DefaultHttpContent(c.content().retainedSlice(c.content().readerIndex(), keep)));
        relay.flush();
        c.release();
        attempt.fail(new EgressException(ErrorCode.UPSTREAM_STREAM_ERROR, "upstream \"" + rc.upstream
                + "\" sent an error event mid-stream"));
    }
}
