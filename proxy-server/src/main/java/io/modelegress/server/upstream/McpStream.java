package io.modelegress.server.upstream;

import io.modelegress.core.config.RouteSettings;
import io.modelegress.core.config.UpstreamSettings;
import io.modelegress.core.error.EgressException;
import io.modelegress.core.error.ErrorCode;
import io.modelegress.core.mcp.EndpointEvent;
import io.modelegress.core.time.Durations;
import io.modelegress.core.timeout.Deadline;
import io.modelegress.core.config.Timeouts;
import io.modelegress.server.http.RequestContext;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.concurrent.EventExecutor;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;

/**
 * The long-lived event stream of an MCP tool server ({@code GET} on a {@code kind: mcp} route answered with
 * {@code text/event-stream}): relayed whole event by whole event, so that the SSE comment keep-alive the sidecar
 * writes while the upstream is quiet ({@code timeouts.mcp_keepalive}) always falls between two events, never inside
 * one; the older transport's {@code endpoint} event rewritten to the sidecar's path ({@link EndpointEvent}); bounded
 * by {@code timeouts.mcp_stream_idle} of upstream silence instead of {@code stream_idle} and the request deadline.
 * The keep-alives ride on the attempt's one phase timer, so every exit of the attempt cancels them. One per
 * response, on its event loop; what it holds of a half-received event is a plain array (nothing to release).
 */
final class McpStream {
    /** A half-received event longer than this is relayed as it stands (and no keep-alive goes out until its end). */
    static final int MAX_PENDING = 1 << 20;
    static final byte[] KEEPALIVE = ": keep-alive\n\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] ENDPOINT = "endpoint".getBytes(StandardCharsets.US_ASCII);

    private final AttemptControl attempt;
    private final ResponseRelay relay;
    private final RequestContext rc;
    private final EventExecutor loop;
    private final UpstreamSettings upstream;
    private final RouteSettings route;
    private final Duration idle;
    private final long idleNanos;
    private final long keepaliveNanos;
    private long lastHeardAt;

    private byte[] pending = new byte[256];
    private int pendingLen;
    /** Bytes of {@link #pending} already scanned; {@code eventStart}: where the event being received began. */
    private int scanned;
    private boolean lastWasCr;
    private int lineLen;
    /** Raw bytes of an oversized event went out: the agent is inside an event until its end arrives. */
    private boolean midEvent;

    private McpStream(AttemptControl attempt, ResponseRelay relay, RequestContext rc, EventExecutor loop,
                      UpstreamSettings upstream, Timeouts t) {
        this.attempt = attempt;
        this.relay = relay;
        this.rc = rc;
        this.loop = loop;
        this.upstream = upstream;
        this.route = rc.route;
        this.idle = t.mcpStreamIdle();
        this.idleNanos = idle.toNanos();
        this.keepaliveNanos = t.mcpKeepalive().toNanos();
    }

    /** The stream of this response when it is an MCP event stream (a 2xx event stream to a GET on an MCP route), else null. */
    static McpStream forResponse(AttemptControl attempt, ResponseRelay relay, RequestContext rc, EventExecutor loop,
                                 UpstreamConnector.Target target, int status, boolean eventStream) {
        if (rc.route == null || !rc.route.isMcp() || !eventStream || status / 100 != 2 || !"GET".equals(rc.method)) return null;
        return new McpStream(attempt, relay, rc, loop, target.upstream(), target.timeouts());
    }

    /** The upstream spoke (or the agent's socket drained): the silence is timed afresh, the next keep-alive too. */
    void arm() {
        lastHeardAt = loop.ticker().nanoTime();
        schedule();
    }

    private void schedule() {
        long left = Math.max(0, idleNanos - (loop.ticker().nanoTime() - lastHeardAt));
        long next = keepaliveNanos > 0 ? Math.min(keepaliveNanos, left) : left;
        attempt.phase(new Deadline.Limit(next, "timeouts.mcp_stream_idle", idle), this::tick);
    }

    private void tick() {
        if (loop.ticker().nanoTime() - lastHeardAt >= idleNanos) {
            attempt.fail(new EgressException(ErrorCode.STREAM_IDLE_TIMEOUT, "MCP server " + upstream.authority()
                    + " sent nothing on its event stream within " + Durations.format(idle) + " (timeouts.mcp_stream_idle)"));
            return;
        }
        if (!midEvent) {
            relay.write(new DefaultHttpContent(Unpooled.wrappedBuffer(KEEPALIVE)));
            rc.bytesOut += KEEPALIVE.length;
            if (relay.flush()) {
                attempt.cancelPhase(); // the agent is slow: timed again when its socket drains
                return;
            }
        }
        schedule();
    }

    /**
     * The whole events that {@code c} completes, to relay in its place ({@code c} is released): a half-received
     * event waits for its end. The last content carries whatever is left.
     */
    HttpContent pass(HttpContent c) {
        ByteBuf in = c.content();
        int n = in.readableBytes();
        ensure(pendingLen + n);
        in.getBytes(in.readerIndex(), pending, pendingLen, n);
        pendingLen += n;
        boolean last = c instanceof LastHttpContent;
        c.release();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int eventStart = 0;
        for (int i = scanned; i < pendingLen; i++) {
            byte b = pending[i];
            if (b == '\n' && lastWasCr) {
                lastWasCr = false;
                if (eventStart == i) eventStart = i + 1; // the LF of a CRLF that closed an event: keep them together
                if (eventStart == i + 1) out.write(b);
                continue;
            }
            lastWasCr = b == '\r';
            if (b == '\n' || b == '\r') {
                if (lineLen == 0) {
                    emit(out, eventStart, i + 1);
                    eventStart = i + 1;
                    midEvent = false;
                }
                lineLen = 0;
            } else {
                lineLen++;
            }
        }
        pendingLen -= eventStart;
        System.arraycopy(pending, eventStart, pending, 0, pendingLen);
        scanned = pendingLen;
        if (last || pendingLen > MAX_PENDING) {
            out.write(pending, 0, pendingLen);
            midEvent = !last && pendingLen > 0;
            pendingLen = 0;
            scanned = 0;
        }
        ByteBuf body = Unpooled.wrappedBuffer(out.toByteArray());
        return last ? new DefaultLastHttpContent(body) : new DefaultHttpContent(body);
    }

    private void emit(ByteArrayOutputStream out, int from, int to) {
        if (to - from < 16 * 1024 && contains(from, to, ENDPOINT)) {
            String event = new String(pending, from, to - from, StandardCharsets.UTF_8);
            String rewritten = EndpointEvent.rewrite(event, upstream.url(), upstream.basePath(), route.prefix(), route.stripPrefix());
            if (!rewritten.equals(event)) {
                out.writeBytes(rewritten.getBytes(StandardCharsets.UTF_8));
                return;
            }
        }
        out.write(pending, from, to - from);
    }

    private boolean contains(int from, int to, byte[] what) {
        outer:
        for (int i = from; i + what.length <= to; i++) {
            for (int j = 0; j < what.length; j++) if (pending[i + j] != what[j]) continue outer;
            return true;
        }
        return false;
    }

    private void ensure(int size) {
        if (size > pending.length) pending = Arrays.copyOf(pending, Math.max(size, pending.length * 2));
    }
}
