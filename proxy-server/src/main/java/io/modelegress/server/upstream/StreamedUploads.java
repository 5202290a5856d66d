package io.modelegress.server.upstream;

import io.modelegress.core.error.EgressException;
import io.modelegress.server.http.StreamedBody;
import io.netty.channel.Channel;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.ReferenceCountUtil;

/**
 * What an attempt does differently when the agent's body is streamed ({@link StreamedBody}): the head goes out with
 * the agent's framing (its Content-Length, or chunked), the body follows as it arrives, and the write counts as done
 * at the body's last byte. Such a request is retried or failed over only while no body byte has been sent; the
 * exchange asks {@link #notReplayable} before its retry policy.
 */
final class StreamedUploads {
    private StreamedUploads() {}

    /**
     * Writes {@code out} (built by {@link UpstreamRequests}) to {@code ch}; for a streamed body, the head and then the
     * body. Answers when the request has gone to the socket: null when it went in this call (the usual case), else a
     * future. A held request on a plain (not TLS) connection of its own is written with the void promise, which spares the
     * encoder a promise per part and their combiner; a failed write then reaches the pipeline's
     * {@code exceptionCaught} ({@code ConnectionPool.Watch}, which hands it to the attempt). When the socket did not
     * take it all, an empty buffer written behind it completes once the bytes before it are written.
     */
    static ChannelFuture write(Channel ch, HttpRequest out, FullHttpRequest agentRequest) {
        StreamedBody body = io.modelegress.server.http.StreamedRequest.of(agentRequest);
        if (body == null) {
            ChannelOutboundBuffer queued = ch.unsafe().outboundBuffer();
            // An h2 stream (the parent holds its bytes), a closed channel, or TLS: SslHandler queues plaintext of its
            // own and drops a void write's failure without a word (a closed engine), so there the promise says.
            if (queued == null || ch.pipeline().get(SslHandler.class) != null) return ch.writeAndFlush(out);
            ch.writeAndFlush(out, ch.voidPromise());
            return queued.isEmpty() ? null : ch.writeAndFlush(Unpooled.EMPTY_BUFFER);
        }
        HttpRequest head = new DefaultHttpRequest(out.protocolVersion(), out.method(), out.uri(), out.headers().copy());
        ReferenceCountUtil.release(out); // its body is the empty placeholder
        if (body.declaredLength() >= 0) {
            head.headers().set(HttpHeaderNames.CONTENT_LENGTH, body.declaredLength());
        } else {
            head.headers().remove(HttpHeaderNames.CONTENT_LENGTH).set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
        }
        return body.attach(ch, head);
    }

    /**
     * The attempt on {@code ch} is over: true when its connection may be pooled as far as the body is concerned
     * (held bodies always; a streamed one only if it went there whole).
     */
    static boolean detach(FullHttpRequest agentRequest, Channel ch) {
        StreamedBody body = io.modelegress.server.http.StreamedRequest.of(agentRequest);
        return body == null || body.detach(ch);
    }

    static boolean isStreamed(FullHttpRequest agentRequest) {
        return io.modelegress.server.http.StreamedRequest.of(agentRequest) != null;
    }

    /** True when another attempt cannot send this request: its body was streamed and is partly gone. */
    static boolean bodySent(FullHttpRequest agentRequest) {
        StreamedBody body = io.modelegress.server.http.StreamedRequest.of(agentRequest);
        return body != null && body.firstByteSent();
    }

    /** {@code e} marked as not retried because the streamed body was already on its way; null when a retry may go. */
    static EgressException notReplayable(FullHttpRequest agentRequest, EgressException e, String upstream) {
        StreamedBody body = io.modelegress.server.http.StreamedRequest.of(agentRequest);
        if (body == null || !body.firstByteSent()) return null;
        return e.withoutRetry("not retried: the request body was streamed to upstream \"" + upstream + "\" ("
                + body.sent() + " bytes sent) and is not held, so it cannot be replayed");
    }
}
