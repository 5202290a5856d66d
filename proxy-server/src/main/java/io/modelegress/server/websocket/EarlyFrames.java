package io.modelegress.server.websocket;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;
import java.util.function.Consumer;

/**
 * Last in the upstream's pipeline during the handshake: hands over the upstream's answer, and keeps the frames that
 * came in the same read as its 101 (and whether the upstream closed) until the relay takes them.
 */
final class EarlyFrames extends ChannelInboundHandlerAdapter {
    private final Consumer<FullHttpResponse> onAnswer;
    private final Consumer<Throwable> onGone;
    private final ArrayDeque<WebSocketFrame> frames = new ArrayDeque<>();
    private boolean inactive;
    private boolean handedOver;

    EarlyFrames(Consumer<FullHttpResponse> onAnswer, Consumer<Throwable> onGone) {
        this.onAnswer = onAnswer;
        this.onGone = onGone;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof FullHttpResponse resp) {
            onAnswer.accept(resp);
        } else if (msg instanceof WebSocketFrame f && !handedOver) {
            frames.add(f);
        } else {
            ReferenceCountUtil.release(msg);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close();
        onGone.accept(cause);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        inactive = true;
        onGone.accept(null);
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        if (!handedOver) release();
    }

    /** The frames kept so far, in order, now the relay's; true when the upstream has closed meanwhile. */
    boolean handOver(Consumer<WebSocketFrame> to) {
        handedOver = true;
        while (!frames.isEmpty()) to.accept(frames.poll());
        return inactive;
    }

    void release() {
        while (!frames.isEmpty()) frames.poll().release();
    }
}
