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

    /** A {@code RST_STREAM} or a {@code GOAWAY} that leaves this stream out reaches the reader as a broken connection. */
    static void event(ResponseReader reader, ChannelHandlerContext ctx, Object evt) {
        try {
            Throwable cause = null;
            if (evt instanceof Http2ResetFrame) cause = H2StreamReset.reset(((Http2ResetFrame) evt).errorCode());
            else if (evt instanceof Http2GoAwayFrame) cause = H2StreamReset.goAway(((Http2GoAwayFrame) evt).lastStreamId());
            if (cause != null && reader != null) reader.exception(ctx, cause);
        } finally {
            ReferenceCountUtil.release(evt);
        }
    }
}
