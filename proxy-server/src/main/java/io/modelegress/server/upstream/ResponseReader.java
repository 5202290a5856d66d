package io.modelegress.server.upstream;

import io.modelegress.core.error.ErrorCode;
import io.modelegress.core.ratelimit.ResponseUsage;
import io.modelegress.core.ratelimit.TokenCount;
import io.modelegress.core.retry.AttemptOutcome;
import io.modelegress.core.retry.CommitGate;
import io.modelegress.core.resume.SentText;
import io.modelegress.core.sse.StreamCompletion;
import io.modelegress.core.timeout.Deadline;
import io.modelegress.server.http.RequestContext;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;

/**
 * Reads one upstream response for its attempt, message by message as the pool's watch hands them over: interim 1xx
 * answers skipped, the head rewritten for the agent ({@link ResponseHeads}), the upstream's quota signals given to
 * its limiter, the body held until its commit point ({@link CommitGate}) and then relayed as it comes
 * ({@link ResponseRelay}), a stream's end judged ({@link StreamEnd}), first_token and stream_idle timed.
 */
final class ResponseReader {
    static final int MAX_HELD_ERROR = 64 * 1024;

    private final AttemptControl attempt;
    private final ExchangeContext rt;
    private final RequestContext rc;
    private final UpstreamConnector.Target target;
    private final Channel upstream;
    private final ResponseRelay relay;
    private final boolean keepAlive;
    private boolean sawHead;
    private boolean committed;
    private boolean skippingInterim;
    private boolean upstreamKeepAlive;
    /** This response's status, stream flag and provider request id: the request's once it commits (a hedge races). */
    private int status;
    private boolean streaming;
    private String upstreamRequestId;
    private CommitGate gate;
    private final HeldResponse held = new HeldResponse();
    private StreamWatch stream;
    private ResponseUsage usage;
    private final ContinuationReader continuation;
    /** Reads the id of a Responses API answer, for its follow-ups (null: not such an answer). */
    private ResponsePins.Learner responseId;
    /** The long-lived event stream of an MCP route (docs/mcp.md), or null. */
    private McpStream mcp;

    ResponseReader(AttemptControl attempt, ExchangeContext rt, ChannelHandlerContext down, RequestContext rc,
                   UpstreamConnector.Target target, Channel upstream, boolean keepAlive) {
        this.attempt = attempt;
        this.rt = rt;
        this.rc = rc;
        this.target = target;
        this.upstream = upstream;
        this.relay = new ResponseRelay(down, upstream);
        this.keepAlive = keepAlive;
        this.continuation = attempt.continuation() == null ? null
                : new ContinuationReader(attempt, attempt.continuation(), rc, target, upstream, relay, rt.events());
    }

    boolean sawHead() { return sawHead; }

    boolean committed() { return committed; }

    StreamCompletion streamShape() { return stream == null ? null : stream.completion(); }

    TokenCount usage() { return usage == null ? null : usage.usage(); }

    /** What this stream forwarded, when a continuation can pick up from it (the agent has no half event); else null. */
    SentText sentForResume() { return stream == null ? null : stream.sentForResume(); }

    /** One decoded message of the upstream's response. */
    void read(Object msg) {
        if (attempt.isOver()) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (!(msg instanceof HttpObject)) {
            // Raw bytes: the decoder switched protocols, so the response framing is lost.
            ReferenceCountUtil.release(msg);
            attempt.protocolError("sent bytes that are not HTTP/1.1 after switching protocols");
            return;
        }
        if (continuation != null) {
            continuation.read(msg);
            return;
        }
        if (skippingInterim) {
            // The empty body of an interim (1xx) response: the final response comes next on the same connection.
            if (msg instanceof LastHttpContent) skippingInterim = false;
            ReferenceCountUtil.release(msg);
            return;
        }
        if (msg instanceof HttpResponse) {
            HttpResponse resp = (HttpResponse) msg;
            if (!(msg instanceof HttpContent) && ResponseHeads.interim(resp)) {
                // Consumed, the response-headers timer still running; after an unsolicited 101 what follows is not
                // HTTP/1.1: the attempt fails, the connection closes.
                if (resp.status().code() == 101) attempt.protocolError("answered 101 Switching Protocols to a request that asked for no upgrade");
                else skippingInterim = true;
                ReferenceCountUtil.release(msg);
                return;
            }
            onHead(resp);
            if (attempt.isOver()) {
                ReferenceCountUtil.release(msg);
                return;
            }
        }
        if (msg instanceof HttpContent) onContent((HttpContent) msg);
    }

    private void onHead(HttpResponse resp) {
        if (resp.decoderResult().isFailure()) {
            attempt.protocolError("sent a malformed response head (" + UpstreamFailures.simple(resp.decoderResult().cause()) + ")");
            return;
        }
        int code = resp.status().code();
        if (target.absoluteForm() && code == 407) {
            // Through an HTTP proxy in absolute-form, a 407 is the proxy's answer, not the upstream's.
            attempt.fail(UpstreamFailures.proxyAuthRequired(target.proxy(), null));
            return;
        }
        sawHead = true;
        rc.firstByteNanos = System.nanoTime();
        rc.status = code;
        attempt.onHead(code);
        upstreamKeepAlive = HttpUtil.isKeepAlive(resp);
        boolean bodiless = ResponseHeads.bodiless(code, rc.method);
        boolean sse = ResponseHeads.prepare(resp, rc, keepAlive, bodiless);
        rc.streaming = sse;
        status = code;
        streaming = sse;
        upstreamRequestId = rc.upstreamRequestId;
        UpstreamState state = attempt.upstreamState();
        responseId = ResponsePins.learner(rt, rc, code, state);
        LimiterGate.observe(state.limiter, code, resp.headers(), rt.ticker());
        if (state.countsTokens) usage = sse ? ResponseUsage.forStream() : ResponseUsage.forBody();
        mcp = McpStream.forResponse(attempt, relay, rc, upstream.eventLoop(), target, code, sse);
        gate = CommitGate.forResponse(code, bodiless, sse && mcp == null, MAX_HELD_ERROR, rt.config().server().maxUncommittedBytes());
        switch (gate.hold()) {
            case ERROR_BODY:
                held.head(resp); // the policy may retry or fall back once it has read the provider's error code
                armStreamIdle();
                break;
            case FIRST_EVENT:
                held.head(resp);
                stream = new StreamWatch(usage, attempt.resume());
                if (target.timeouts().firstToken().isZero()) {
                    armStreamIdle();
                } else {
                    Deadline.Limit l = rc.deadline.limitFor(target.timeouts().firstToken(), "timeouts.first_token");
                    attempt.phase(l, () -> attempt.fail(rc.deadline.exceeded(ErrorCode.FIRST_TOKEN_TIMEOUT, l,
                            "upstream " + target.upstream().authority() + " sent headers but no data")));
                }
                break;
            default:
                commit();
                relay.write(resp);
                if (mcp != null) relay.flush(); // the agent learns its stream is open before the first event
                armStreamIdle();
        }
    }

    private void onContent(HttpContent c) {
        boolean last = c instanceof LastHttpContent;
        if (c.decoderResult().isFailure()) {
            // An invalid chunk size or a body the decoder cannot frame: what was relayed is flushed, then the error.
            String why = UpstreamFailures.simple(c.decoderResult().cause());
            c.release();
            attempt.protocolError("sent a malformed response body (" + why + ")");
            return;
        }
        int n = c.content().readableBytes();
        rc.bytesOut += n;
        if (usage != null && usage.wantsBody()) usage.onBody(ByteBufUtil.getBytes(c.content()));
        if (mcp != null) c = mcp.pass(c); // whole events only, so a keep-alive never lands inside one
        boolean dataEvent = stream != null && stream.scan(c.content()) > 0;
        if (responseId != null) responseId.onContent(c.content(), stream); // before the agent has the id
        if (stream != null && stream.inBandErrorAt() >= 0 && committed) {
            StreamEnd.atInBandError(c, stream, relay, rc, attempt);
            return;
        }
        if (last && stream != null) {
            c = StreamEnd.last(c, stream, upstream, rc, attempt);
            if (c == null) return;
        }
        switch (gate.onContent(n, dataEvent, last)) {
            case HOLD:
                held.add(c);
                return;
            case JUDGE:
                held.add(c);
                if (retriedInstead(last)) {
                    discardHeld();
                    return;
                }
                writeHeld();
                break;
            default:
                if (held.head() != null) {
                    held.add(c);
                    writeHeld();
                } else {
                    relay.write(c);
                }
        }
        if (last) {
            relay.flush();
            attempt.complete(upstreamKeepAlive && upstream.isActive());
            return;
        }
        if (relay.flush()) attempt.cancelPhase(); // the agent is slow: the upstream's silence is ours, not timed
        else if (stream == null || dataEvent) armStreamIdle();
    }

    /** What was held is complete: an error answer, or a stream's first event. True when the exchange retries instead. */
    private boolean retriedInstead(boolean last) {
        if (gate.hold() == CommitGate.Hold.ERROR_BODY) {
            return last && attempt.judge(AttemptOutcome.errorAnswer(rc.status, held.body(), held.head().headers()::get, rt.ticker()),
                    upstreamKeepAlive && upstream.isActive());
        }
        AttemptOutcome inBand = AttemptOutcome.inBandError(stream.firstEventData());
        return inBand != null && attempt.judge(inBand, false);
    }

    private void commit() {
        committed = true;
        rc.status = status;
        rc.streaming = streaming;
        rc.upstreamRequestId = upstreamRequestId;
        attempt.commit();
    }

    private void writeHeld() {
        if (gate.hold() == CommitGate.Hold.ERROR_BODY) ResponseHeads.markRetried(held.head(), rc);
        commit();
        held.writeTo(relay);
    }

    /** The agent's socket drained: read the upstream again, and time its silence again. */
    void onDownstreamWritable() {
        if (relay.onDownstreamWritable()) armStreamIdle();
    }

    private void armStreamIdle() {
        if (mcp != null) {
            mcp.arm(); // timeouts.mcp_stream_idle and the keep-alives instead
            return;
        }
        Deadline.Limit l = rc.deadline.limitFor(target.timeouts().streamIdle(), "timeouts.stream_idle");
        attempt.phase(l, () -> attempt.fail(rc.deadline.exceeded(ErrorCode.STREAM_IDLE_TIMEOUT, l,
                "upstream " + target.upstream().authority() + " sent nothing")));
    }

    void discardHeld() { held.discard(); }

    /** The upstream connection closed. */
    void inactive() {
        if (!attempt.isOver()) attempt.broken(null);
    }

    void exception(ChannelHandlerContext ctx, Throwable cause) {
        if (!attempt.isOver()) attempt.broken(cause);
        else ctx.close();
    }
}
