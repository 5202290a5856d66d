package io.modelegress.bench;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.util.concurrent.TimeUnit;

/**
 * Answers every request like a chat-completions endpoint: after {@code delayMs} (a timer on the event loop, never a
 * sleep) a ~300-byte JSON body, or, when the body says {@code "stream": true}, an SSE stream of {@code sseChunks}
 * events {@code chunkIntervalMs} apart and a final {@code [DONE]}. Keeps the connection alive unless asked not to.
 */
final class MockUpstreamHandler extends ChannelInboundHandlerAdapter {
    /** The mock's knobs. */
    record Behaviour(long delayMs, int sseChunks, long chunkIntervalMs) {}

    private final Behaviour behaviour;
    private final LoadStats stats;
    private int open; // responses started on this connection and not yet ended

    MockUpstreamHandler(Behaviour behaviour, LoadStats stats) {
        this.behaviour = behaviour;
        this.stats = stats;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof FullHttpRequest req)) {
            ReferenceCountUtil.release(msg);
            return;
        }
        boolean keepAlive;
        boolean stream;
        try {
            keepAlive = HttpUtil.isKeepAlive(req);
            stream = MockResponses.wantsStream(req.content());
        } finally {
            req.release();
        }
        open++;
        stats.requestStarted();
        Runnable respond = stream ? () -> startStream(ctx, keepAlive) : () -> completion(ctx, keepAlive);
        if (behaviour.delayMs() > 0) ctx.executor().schedule(respond, behaviour.delayMs(), TimeUnit.MILLISECONDS);
        else respond.run();
    }

    private void completion(ChannelHandlerContext ctx, boolean keepAlive) {
        if (!ctx.channel().isActive()) return; // counted as aborted by channelInactive
        FullHttpResponse resp = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                Unpooled.wrappedBuffer(MockResponses.COMPLETION));
        resp.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON)
                .setInt(HttpHeaderNames.CONTENT_LENGTH, MockResponses.COMPLETION.length);
        if (!keepAlive) resp.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        ended();
        var f = ctx.writeAndFlush(resp);
        if (!keepAlive) f.addListener(ChannelFutureListener.CLOSE);
    }

    private void startStream(ChannelHandlerContext ctx, boolean keepAlive) {
        if (!ctx.channel().isActive()) return;
        HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        head.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/event-stream")
                .set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_CACHE)
                .set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
        if (!keepAlive) head.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        ctx.write(head);
        sendChunk(ctx, keepAlive, behaviour.sseChunks());
    }

    /** Sends one event and schedules the next; with no interval the whole stream goes out at once, one flush per event. */
    private void sendChunk(ChannelHandlerContext ctx, boolean keepAlive, int left) {
        while (true) {
            if (!ctx.channel().isActive()) return;
            if (left == 0) {
                ctx.write(new DefaultHttpContent(Unpooled.wrappedBuffer(MockResponses.DONE)));
                ended();
                var f = ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
                if (!keepAlive) f.addListener(ChannelFutureListener.CLOSE);
                return;
            }
            ctx.writeAndFlush(new DefaultHttpContent(Unpooled.wrappedBuffer(MockResponses.CHUNK)));
            int next = left - 1;
            if (behaviour.chunkIntervalMs() > 0) {
                ctx.executor().schedule(() -> sendChunk(ctx, keepAlive, next), behaviour.chunkIntervalMs(), TimeUnit.MILLISECONDS);
                return;
            }
            left = next;
        }
    }

    private void ended() {
        open--;
        stats.requestCompleted();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        for (; open > 0; open--) stats.requestAborted();
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close(); // resets from clients that gave up are expected under load
    }
}
