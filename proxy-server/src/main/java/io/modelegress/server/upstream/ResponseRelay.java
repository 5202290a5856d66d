package io.modelegress.server.upstream;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpObject;

/**
 * Relays a response to the agent as it arrives — the buffers that came in are the buffers that go out — and keeps
 * back-pressure: while the agent's socket is not writable the upstream is not read (autoRead off), so a slow agent
 * never makes the sidecar buffer a fast stream; reading resumes when the socket drains.
 */
final class ResponseRelay {
    private final ChannelHandlerContext down;
    private final Channel upstream;
    private boolean paused;

    ResponseRelay(ChannelHandlerContext down, Channel upstream) {
        this.down = down;
        this.upstream = upstream;
    }

    /**
     * No promise: nothing waits on a relayed part (a failed write means the agent is gone, which the channel's close
     * reports), and a void promise spares a promise per part and the encoder's combiner. A failure still reaches the
     * pipeline as an exception, which closes the connection.
     */
    void write(HttpObject msg) { down.write(msg, down.voidPromise()); }

    /** Flushes to the agent; true when its socket is full and the upstream's reads were paused. */
    boolean flush() {
        down.flush();
        if (down.channel().isWritable()) return false;
        upstream.config().setAutoRead(false);
        paused = true;
        return true;
    }

    /** The agent's socket drained: read the upstream again. True when reads had been paused. */
    boolean onDownstreamWritable() {
        if (!down.channel().isWritable()) return false;
        upstream.config().setAutoRead(true);
        boolean was = paused;
        paused = false;
        return was;
    }
}
