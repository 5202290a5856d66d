package io.modelegress.server.upstream;

import io.modelegress.core.config.RouteTarget;
import io.modelegress.core.config.UpstreamSettings;
import io.modelegress.core.error.EgressException;
import io.modelegress.core.error.ErrorCode;
import io.modelegress.core.ratelimit.Permit;
import io.modelegress.core.ratelimit.TokenCount;
import io.modelegress.core.retry.AttemptOutcome;
import io.modelegress.core.sse.StreamCompletion;
import io.modelegress.core.timeout.Deadline;
import io.modelegress.server.events.ExchangeEvents;
import io.modelegress.server.http.RequestContext;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpRequest;
import java.util.function.Function;

/**
 * One try of an agent request on one upstream: admission by the upstream's limiter ({@link AttemptAdmission}), a
 * connection from the pool ({@link AttemptConnection}), the request written, the response read by its
 * {@link ResponseReader}. It owns everything of that try — the limiter permit, the connection lease, the phase timer,
 * its books with the upstream's retry budget and breaker ({@link AttemptBooks}) — and releases each exactly once. It reports to its exchange through {@link AttemptListener}, one method per event, and not at
 * all once it is over: an attempt that was superseded cannot reach the exchange.
 *
 * <pre>
 *   ADMITTING ──permit──▶ CONNECTING ──written──▶ SENT ──head──▶ HEADERS ──first byte to the agent──▶ COMMITTED
 *       │                     │                     │              │                                     │
 *       └────────── failure / timeout / reset ──────┴──────────────┴──▶ FAILED            last byte ──▶ DONE
 * </pre>
 * A failure before COMMITTED leaves the exchange free to retry; after it, the exchange can only end the stream.
 */
final class UpstreamAttempt implements AttemptControl {
    enum State { ADMITTING, CONNECTING, SENT, HEADERS, COMMITTED, DONE, FAILED }

    private final AttemptListener listener;
    private final ExchangeContext rt;
    private final ChannelHandlerContext down;
    private final FullHttpRequest request;
    private final RequestContext rc;
    private final RouteTarget target;
    private final UpstreamSettings settings;
    private final UpstreamState upstream;
    private final ExchangeTimers timers;
    private final ExchangeEvents events;
    private final Function<UpstreamState, TokenCount> estimate;
    private final boolean keepAlive;
    private final boolean freshConnection;

    private State state = State.ADMITTING;
    private final AttemptBooks books;
    private AttemptAdmission admission;
    private AttemptConnection connection;
    private ResponseReader reader;
    /** The request went out in full: the upstream may have acted on it (an MCP message is never repeated then). */
    private boolean written;
    /** Set by the exchange when the route resumes broken streams (issue 16); {@code continuation}: this is one. */
    StreamResume resume;
    StreamResume.Continuation continuation;

    @Override
    public StreamResume resume() { return resume; }

    @Override
    public StreamResume.Continuation continuation() { return continuation; }

    UpstreamAttempt(AttemptListener listener, ExchangeContext rt, ChannelHandlerContext down, FullHttpRequest request,
                    RequestContext rc, RouteTarget target, UpstreamState upstream, ExchangeTimers timers,
                    boolean carriesRetryPermit, Function<UpstreamState, TokenCount> estimate, boolean keepAlive,
                    boolean freshConnection) {
        this.freshConnection = freshConnection;
        this.listener = listener;
        this.rt = rt;
        this.down = down;
        this.request = request;
        this.rc = rc;
        this.target = target;
        this.settings = upstream.settings;
        this.upstream = upstream;
        this.timers = timers;
        this.events = rt.events();
        this.books = new AttemptBooks(upstream, carriesRetryPermit, RequestModels.of(request, rc, target));
        this.estimate = estimate;
        this.keepAlive = keepAlive;
    }

    State state() { return state; }

    boolean requestWritten() { return written; }

    @Override
    public boolean isOver() { return state == State.DONE || state == State.FAILED; }

    boolean committed() { return state == State.COMMITTED || reader != null && reader.committed() || continuation != null; }

    /** What the committed stream forwarded, when a continuation can pick up from it; else null. */
    io.modelegress.core.resume.SentText sentForResume() { return reader == null ? null : reader.sentForResume(); }

    @Override
    public UpstreamState upstreamState() { return upstream; }

    /** The stream's shape so far (for an error event in its format), or null when the answer is not a stream. */
    StreamCompletion streamShape() { return reader == null ? null : reader.streamShape(); }

    void start() {
        books.open();
        EgressException noCredential = UpstreamFailures.credential(settings);
        if (noCredential != null) {
            refuse(noCredential, AttemptOutcome.failure(noCredential.code()));
            return;
        }
        admission = new AttemptAdmission(this, rc, events);
        admission.submit(upstream, estimate.apply(upstream), rt.ticker().nanos() + rc.deadline.remainingNanos(), down.executor());
    }

    /** The limiter let the attempt start: a connection from the pool (a new one for a replay after a stale one). */
    void admitted(Permit p) {
        books.granted(p);
        state = State.CONNECTING;
        AttemptConnection.open(this, rt, rc, down.channel().eventLoop(), freshConnection);
    }

    /** Refused before it began: no retry can help, and the breaker learns {@code outcome} (null: nothing). */
    void refuse(EgressException e, AttemptOutcome outcome) {
        endBooks(outcome);
        state = State.FAILED;
        listener.onFailure(this, e, null);
    }

    /** The pool gave the attempt its connection; {@code tg} is the target as connected. The request goes out. */
    void connected(AttemptConnection c, UpstreamConnector.Target tg) {
        connection = c;
        Channel ch = c.lease().channel();
        ResponseReader r = new ResponseReader(this, rt, down, rc, tg, ch, keepAlive);
        reader = r;
        c.lease().attach(r);
        HttpRequest out;
        try {
            out = UpstreamRequests.build(request, rc, tg, target);
        } catch (RuntimeException e) {
            refuse(UpstreamFailures.unexpected(e), null); // a bug must end the exchange, not leave the agent waiting
            return;
        }
        ChannelFuture w = StreamedUploads.write(ch, out, request); // a streamed body: done at its last byte
        if (w == null) {
            if (!isOver()) sent(r, tg); // over: the write failed at once, and broken() has run
            return;
        }
        w.addListener((ChannelFutureListener) f -> {
            if (!f.isSuccess()) {
                if (reader == r) broken(f.cause());
                return;
            }
            sent(r, tg);
        });
    }

    /** The request has gone to the socket: the wait for the response head starts (unless it came already). */
    private void sent(ResponseReader r, UpstreamConnector.Target tg) {
        if (reader == r) written = true;
        if (reader == r) McpRequests.liftDeadline(rc, request, timers); // before the head may overtake the write
        if (isOver() || reader != r || state != State.CONNECTING) return; // replaced, over, or answered already
        state = State.SENT;
        Deadline.Limit l = McpRequests.headersLimit(rc, request, tg.timeouts()); // an MCP event stream: its own
        if (l == null) l = rc.deadline.limitFor(tg.timeouts().responseHeaders(), "timeouts.response_headers");
        Deadline.Limit limit = l;
        phase(limit, () -> fail(rc.deadline.exceeded(ErrorCode.UPSTREAM_RESPONSE_TIMEOUT, limit,
                "upstream " + settings.authority() + " sent no response headers")));
    }

    /** Arms the attempt's phase timer (response headers, first token or stream idle), replacing the one before. */
    @Override
    public void phase(Deadline.Limit limit, Runnable onFire) {
        timers.phase(limit, () -> {
            if (!isOver()) onFire.run();
        });
    }

    @Override
    public void cancelPhase() { timers.cancelPhase(); }

    /** The response head arrived. */
    @Override
    public void onHead(int status) {
        cancelPhase();
        state = State.HEADERS;
        events.responseHeaders(rc, settings.name(), status);
    }

    /** The first byte goes to the agent now. */
    @Override
    public void commit() {
        state = State.COMMITTED;
        rc.committed = true;
        events.firstByte(rc, settings.name());
        listener.onCommitted(this);
    }

    /**
     * An error answer or an in-band error, read whole: the books close with it, and the exchange decides. True when
     * it retries: then this attempt is over and its connection is pooled ({@code reusable}) or closed.
     */
    @Override
    public boolean judge(AttemptOutcome answer, boolean reusable) {
        endBooks(answer);
        events.attemptEnd(rc, settings.name(), answer.metricTag());
        if (!listener.retriesInstead(this, answer)) return false;
        cancelPhase();
        state = State.DONE;
        releaseLease(reusable);
        return true;
    }

    /** The last byte went to the agent. */
    @Override
    public void complete(boolean reusable) {
        cancelPhase();
        if (books.isOpen()) {
            events.attemptEnd(rc, settings.name(), "ok");
            endBooks(AttemptOutcome.status(rc.status));
        }
        releaseLease(reusable);
        state = State.DONE;
        listener.onComplete(this);
    }

    /** Every failure of the attempt comes here: the exchange retries it, or ends with it once committed. */
    @Override
    public void fail(EgressException e) {
        if (isOver()) return;
        cancelPhase();
        if (committed()) {
            state = State.FAILED;
            listener.onFailure(this, e, null); // the exchange ends the stream, then aborts us (books, lease)
            return;
        }
        AttemptOutcome o = AttemptOutcome.failure(e.code());
        if (reader != null && reader.sawHead()) o = o.afterResponseStarted();
        endBooks(o);
        discardLease();
        events.attemptEnd(rc, settings.name(), o.metricTag());
        state = State.FAILED;
        listener.onFailure(this, e, o);
    }

    /** The connection broke (write failed, closed, or reset). Before any response byte a stale pooled one is replayed. */
    @Override
    public void broken(Throwable cause) {
        if (isOver()) return;
        boolean beforeResponse = reader == null || !reader.sawHead();
        EgressException e = UpstreamFailures.closed(settings.name(),
                beforeResponse ? "before sending a response" : committed() ? "mid-response" : "before the first data", cause);
        if (beforeResponse && connection != null && (connection.reused() || H2StreamReset.unprocessed(cause))) {
            // A keep-alive connection the server closed while it sat in the pool: the upstream cannot have read the
            // request, so it is replayed at once on a fresh connection — as an attempt, counted like any other.
            cancelPhase();
            endBooks(null);
            discardLease();
            events.attemptEnd(rc, settings.name(), AttemptOutcome.staleConnection().metricTag());
            state = State.FAILED;
            listener.onFailure(this, e, AttemptOutcome.staleConnection());
            return;
        }
        fail(e);
    }

    /** The answer broke HTTP/1.1 framing (a malformed head or chunk, an unsolicited 101): the connection is closed. */
    @Override
    public void protocolError(String what) {
        fail(new EgressException(ErrorCode.UPSTREAM_PROTOCOL_ERROR, "upstream \"" + settings.name() + "\" " + what));
    }

    /** The exchange ends for its own reason (deadline, agent gone, a committed failure): close the books with {@code o}. */
    void abort(AttemptOutcome o) {
        cancelPhase();
        if (admission != null) admission.cancel();
        endBooks(o);
        discardLease();
        state = State.FAILED;
    }

    void onDownstreamWritable() {
        if (reader != null) reader.onDownstreamWritable();
    }

    private void endBooks(AttemptOutcome o) { books.close(o, reader == null ? null : reader.usage()); }

    private void releaseLease(boolean reusable) {
        if (connection != null) connection.release(reusable, request);
    }

    private void discardLease() {
        if (reader != null) reader.discardHeld();
        if (connection != null) connection.discard(request);
    }
}
