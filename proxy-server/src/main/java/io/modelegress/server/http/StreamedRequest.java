package io.modelegress.server.http;

import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpRequest;

/**
 * An agent request whose body is streamed ({@link StreamedBody}) rather than held: to routing, the exchange and the
 * books it is a request with an empty body (no JSON {@code model} to read, no tokens to estimate), so every path that
 * reads the held body leaves it alone. Releasing it — the one way any request is let go, {@link BodyBudget#release}
 * — ends the body, so whatever ends the exchange (answer, refusal, a pipelined request dropped, the agent gone)
 * also stops the streaming.
 */
public final class StreamedRequest extends DefaultFullHttpRequest {
    private final StreamedBody body;

    public StreamedRequest(HttpRequest head, StreamedBody body) {
        super(head.protocolVersion(), head.method(), head.uri(), Unpooled.buffer(0), head.headers(),
                io.netty.handler.codec.http.EmptyHttpHeaders.INSTANCE);
        this.body = body;
    }

    public StreamedBody body() { return body; }

    /** The streamed body of {@code req}, or null when its body is held. */
    public static StreamedBody of(FullHttpRequest req) {
        return req instanceof StreamedRequest s ? s.body : null;
    }

    @Override
    public boolean release() {
        boolean last = super.release();
        if (last) body.end();
        return last;
    }

    @Override
    public boolean release(int decrement) {
        boolean last = super.release(decrement);
        if (last) body.end();
        return last;
    }

    /**
     * Passes the request aggregator untouched: it is not an {@code HttpObject}, so the aggregator (which would hold
     * the body or refuse it by its Content-Length) lets it by, and the dispatcher unwraps it.
     */
    public record Envelope(StreamedRequest request) {}
}
