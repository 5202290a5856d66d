package io.modelegress.server.upstream;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http2.Http2GoAwayFrame;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.handler.codec.http2.HttpConversionUtil;
import io.netty.util.ReferenceCountUtil;

/** What an h2 stream's watch does beyond an HTTP/1.1 connection's: the codec's own header dropped, resets mapped. */
final class H2Streams {
    private H2Streams() {}

    /** The stream id the codec adds to every head is ours, not the upstream's: the agent never sees it. */
    static void strip(Object msg) {
        if (msg instanceof HttpResponse) ((HttpResponse) msg).headers().remove(HttpConversionUtil.ExtensionHeaderNames.STREAM_ID.text());
    }

    /**
     * A {@code RST_STREAM} or a {@code GOAWAY} that leaves this stream out reaches the reader as a broken connection.
     * A GOAWAY's is told only after the codec has closed the stream (in the same call, after this event), so that
     * closing it sends no {@code RST_STREAM}: the server never created the stream, and a server that counts a reset
     * of a stream it never saw as a connection error (Netty's does) would end every stream still running on it.
     */
    static void event(ConnectionPool.Watch watch, ChannelHandlerContext ctx, Object evt) {
        try {
            ResponseReader reader = watch.relay;
            if (evt instanceof Http2ResetFrame) {
                if (reader != null) reader.exception(ctx, H2StreamReset.reset(((Http2ResetFrame) evt).errorCode()));
            } else if (evt instanceof Http2GoAwayFrame && reader != null) {
                watch.refused = H2StreamReset.goAway(((Http2GoAwayFrame) evt).lastStreamId());
                ctx.executor().execute(() -> { // the close (channelInactive) usually tells it first
                    ResponseReader r = watch.relay;
                    if (r != null) r.exception(ctx, watch.refused);
                });
            }
        } finally {
            ReferenceCountUtil.release(evt);
        }
    }
}
