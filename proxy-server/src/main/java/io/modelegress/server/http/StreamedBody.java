package io.modelegress.server.http;

import io.modelegress.core.error.EgressException;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.LastHttpContent;
import java.util.ArrayDeque;
import java.util.function.Consumer;

/**
 * The body of a streamed upload on its way from the agent to one upstream connection, the mirror of the response
 * relay: chunks are written as they arrive, and while the upstream's socket is full the agent's connection stops
 * reading ({@code autoRead} off) until a write completes with the socket writable again. Before a connection is
 * attached (the attempt still connecting) at most {@code holdLimit} bytes are held, then the agent is paused too.
 * Those held chunks are what a retry may still send; once the first body byte went to an upstream the body cannot be
 * replayed ({@link #firstByteSent()}). When the exchange is over ({@link #end()}) the rest of the body is read and
 * dropped, so the agent's connection stays usable. Touched only on the agent channel's event loop, where the upstream
 * connection lives too.
 */
public final class StreamedBody {
    private final Channel agent;
    private final long declaredLength;
    private final int holdLimit;
    private final ArrayDeque<HttpContent> held = new ArrayDeque<>();
    private long heldBytes;
    private long received;
    private long sent;
    private Channel upstream;
    private ChannelPromise written;
    private boolean firstByteSent;
    private boolean complete;
    private boolean ended;
    private Consumer<EgressException> onAgentError;
    private RequestContext books;

    public StreamedBody(Channel agent, long declaredLength, int holdLimit) {
        this.agent = agent;
        this.declaredLength = declaredLength;
        this.holdLimit = Math.max(1, holdLimit);
    }

    /** The agent's Content-Length, or -1 for a chunked body. */
    public long declaredLength() { return declaredLength; }

    public long received() { return received; }

    /** From now on {@code rc.bytesIn} is the body bytes received from the agent (the access log's and metrics' count). */
    public void countInto(RequestContext rc) {
        rc.streamedUpload = true;
        rc.bytesIn = received;
        books = rc;
    }

    /** Bytes handed to an upstream connection so far. */
    public long sent() { return sent; }

    /** True once any body byte was written to an upstream: from then on no other attempt can send this body. */
    public boolean firstByteSent() { return firstByteSent; }

    /** The agent's last chunk arrived. */
    public boolean complete() { return complete; }

    /** Who hears of a body the agent got wrong mid-way (a chunked body over the limit): the exchange, to answer. */
    public void onAgentError(Consumer<EgressException> c) { this.onAgentError = c; }

    // ---- the agent side (the downstream streamer)

    /** A chunk from the agent: written on when a connection is attached, else held (and the agent paused when full). */
    public void offer(HttpContent c) {
        received += c.content().readableBytes();
        if (books != null) books.bytesIn = received;
        if (c instanceof LastHttpContent) complete = true;
        if (ended) {
            c.release();
            return;
        }
        if (upstream != null) {
            write(c);
            return;
        }
        held.add(c);
        heldBytes += c.content().readableBytes();
        updateAgentRead();
    }

    /** The agent broke the body (too large mid-way): the exchange answers with {@code e}; false when none listens yet. */
    public boolean agentError(EgressException e) {
        Consumer<EgressException> c = onAgentError;
        onAgentError = null;
        if (c == null) return false;
        c.accept(e);
        return true;
    }

    // ---- the upstream side (one attempt)

    /**
     * Writes {@code head} and then the body to {@code up} as it comes. The future completes when the last chunk has
     * been written (or fails with the first failed write): the moment the attempt starts waiting for the answer.
     */
    public ChannelFuture attach(Channel up, HttpRequest head) {
        ChannelPromise done = up.newPromise();
        if (ended) {
            io.netty.util.ReferenceCountUtil.release(head);
            return done.setFailure(new IllegalStateException("the exchange is over"));
        }
        upstream = up;
        written = done;
        up.write(head).addListener(f -> {
            if (!f.isSuccess()) done.tryFailure(f.cause());
        });
        while (!held.isEmpty()) {
            HttpContent c = held.poll();
            heldBytes -= c.content().readableBytes();
            write(c);
        }
        up.flush();
        updateAgentRead();
        return done;
    }

    /**
     * The attempt on {@code up} is over: later chunks are no longer written there. True when the whole body went to it
     * (so the connection may be pooled); a connection left mid-body is never reused.
     */
    public boolean detach(Channel up) {
        if (upstream != up) return false;
        boolean whole = complete && held.isEmpty() && written != null && written.isSuccess();
        upstream = null;
        written = null;
        updateAgentRead();
        return whole;
    }

    /** The exchange is over: what is held is dropped, the rest of the body is read and dropped as it arrives. */
    public void end() {
        if (ended) return;
        ended = true;
        upstream = null;
        written = null;
        onAgentError = null;
        while (!held.isEmpty()) held.poll().release();
        heldBytes = 0;
        updateAgentRead();
    }

    private void write(HttpContent c) {
        Channel up = upstream;
        ChannelPromise done = written;
        boolean last = c instanceof LastHttpContent;
        int n = c.content().readableBytes();
        if (n > 0) firstByteSent = true;
        sent += n;
        up.writeAndFlush(c).addListener(f -> {
            if (!f.isSuccess()) {
                done.tryFailure(f.cause());
                return;
            }
            if (last) done.trySuccess();
            if (upstream != up) return;
            if (up.isWritable()) updateAgentRead();
            // A write's promise completes before its bytes leave the pending count, so the socket turns writable
            // just after this listener: look again once the flush is over, or the agent would stay paused for good.
            else up.eventLoop().execute(() -> { if (upstream == up) updateAgentRead(); });
        });
        if (!up.isWritable()) updateAgentRead();
    }

    /** Reads from the agent while there is room: the upstream writable, or held bytes under the limit, or dropping. */
    private void updateAgentRead() {
        boolean read = ended || complete || (upstream != null ? upstream.isWritable() : heldBytes < holdLimit);
        if (agent.config().isAutoRead() != read) agent.config().setAutoRead(read);
    }
}
