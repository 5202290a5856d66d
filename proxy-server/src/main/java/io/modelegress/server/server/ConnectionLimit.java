package io.modelegress.server.server;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntSupplier;

/**
 * Caps the open connections of one listener, like Envoy's per-listener connection limit ({@code downstream_cx_overflow}):
 * it sits on the listening channel ahead of the acceptor, so a connection over the cap is closed at once (no response,
 * never registered with an event loop, no pipeline built) and counted. The cap is read per accept, so a reloaded config applies to the next
 * connection; connections already open are never closed by a lower cap.
 */
@ChannelHandler.Sharable
final class ConnectionLimit extends ChannelInboundHandlerAdapter {
    private final IntSupplier cap;
    private final Runnable rejected;
    private final AtomicInteger open = new AtomicInteger();
    private final ChannelFutureListener closed = f -> open.decrementAndGet();

    /** {@code cap}: the current limit, 0 for none; {@code rejected}: counts a connection closed for it. */
    ConnectionLimit(IntSupplier cap, Runnable rejected) {
        this.cap = cap;
        this.rejected = rejected;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        Channel child = (Channel) msg;
        int max = cap.getAsInt();
        // Only the listener's own event loop increments, so check-then-increment cannot overshoot.
        if (max > 0 && open.get() >= max) {
            rejected.run(); // counted before the close, so whoever sees the close sees the count
            child.unsafe().closeForcibly();
            return;
        }
        open.incrementAndGet();
        child.closeFuture().addListener(closed);
        ctx.fireChannelRead(child);
    }

    /** Connections open now (a gauge). */
    int open() { return open.get(); }
}
