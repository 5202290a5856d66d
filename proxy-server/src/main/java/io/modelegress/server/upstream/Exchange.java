package io.modelegress.server.upstream;

import io.modelegress.core.config.EgressConfig;
import io.modelegress.core.config.RouteTarget;
import io.modelegress.core.config.SecretSource;
import io.modelegress.core.config.Timeouts;
import io.modelegress.core.config.UpstreamSettings;
import io.modelegress.core.error.EgressException;
import io.modelegress.core.error.ErrorCode;
import io.modelegress.core.time.Durations;
import io.modelegress.core.timeout.Deadline;
import io.modelegress.server.downstream.AccessLog;
import io.modelegress.server.downstream.ErrorResponses;
import io.modelegress.server.downstream.RequestContext;
import io.modelegress.server.server.EgressRuntime;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpRequest;
import io.modelegress.core.retry.AttemptOutcome;
import io.modelegress.core.retry.RetryAfter;
import io.modelegress.core.retry.RetryDecision;
import io.modelegress.core.retry.RetryPolicy;
import io.modelegress.core.retry.SseErrorEvent;
import io.modelegress.core.retry.UpstreamErrorBody;
import io.netty.handler.codec.http.HttpHeaders;
import io.modelegress.core.ratelimit.Permit;
import io.modelegress.core.ratelimit.Rejection;
import io.modelegress.core.ratelimit.Ticket;
import io.modelegress.core.ratelimit.TokenCount;
import io.modelegress.core.ratelimit.TokenEstimator;
import io.netty.buffer.ByteBufInputStream;
import java.util.concurrent.ThreadLocalRandom;

/**
 * One agent request from routing to the last byte: picks the upstream, leases a connection, sends the buffered
 * request, relays the response through {@link ResponseRelay}, and ends exactly once — success, classified failure,
 * or agent cancel — with timers cancelled and the upstream connection pooled or closed. Runs on the downstream
 * channel's event loop; the upstream channel lives on the same loop, so no field needs synchronisation.
 */
public final class Exchange {
    private final EgressRuntime rt;
    private final ChannelHandlerContext down;
    private final FullHttpRequest request;
    private final RequestContext rc;
    private final boolean keepAlive;
    private final Runnable onDone;

    private int targetIndex;
    private ConnectionPool.Lease lease;
    private ResponseRelay relay;
    private final ExchangeTimers timers;
    private boolean finished;
    private boolean staleRetried;
    private RetryPolicy policy;
    private final AttemptLedger ledger = new AttemptLedger();
    private Ticket queued;
    private TokenCount estimate;

    public Exchange(EgressRuntime rt, ChannelHandlerContext down, FullHttpRequest request, RequestContext rc,
                    boolean keepAlive, Runnable onDone) {
        this.rt = rt;
        this.down = down;
        this.request = request;
        this.rc = rc;
        this.keepAlive = keepAlive;
        this.onDone = onDone;
        this.timers = new ExchangeTimers(down.executor(), () -> finished);
    }

    public RequestContext context() { return rc; }

    public io.netty.util.concurrent.EventExecutor downstreamExecutor() { return down.executor(); }

    ChannelHandlerContext downstream() { return down; }

    EgressRuntime runtime() { return rt; }

    UpstreamState currentState() { return ledger.current(); }

    boolean keepAlive() { return keepAlive; }

    public void start() {
        timers.deadline(rc.deadline.remainingNanos(), () -> fail(new EgressException(ErrorCode.REQUEST_DEADLINE_EXCEEDED,
                "the request did not complete within " + Durations.format(rc.deadline.budget()) + " ("
                        + rc.deadline.source() + "); last upstream " + rc.upstream)));
        if (rc.headersLimit != null) {
            timers.sdkLimit(rc.headersLimit.toNanos(), () -> {
                if (!rc.committed) {
                    fail(new EgressException(ErrorCode.REQUEST_DEADLINE_EXCEEDED, "no response from upstream "
                            + rc.upstream + " before " + rc.headersLimitSource + " would give up"));
                }
            });
        }
        policy = rt.policy(rc.route);
        attempt(false);
    }

    private void attempt(boolean forceFresh) {
        if (finished) return;
        EgressConfig cfg = rt.config();
        if (!forceFresh) {
            // Upstreams whose breaker refuses are skipped: their requests go to the next one, in milliseconds.
            targetIndex = RouteTargets.acquireFrom(rt, rc.route, targetIndex);
            if (targetIndex < 0) {
                fail(RouteTargets.unavailable(rt, rc.route));
                return;
            }
            rc.attempts++;
            ledger.begin(rt.upstream(rc.route.upstreams().get(targetIndex).upstream()));
        }
        RouteTarget target = rc.route.upstreams().get(targetIndex);
        UpstreamSettings u = cfg.upstream(target.upstream());
        rc.upstream = u.name();
        if (u.auth() != null) {
            SecretSource.Resolved cred = u.auth().value().current();
            if (!cred.present()) {
                fail(new EgressException(cred.invalid() ? ErrorCode.CREDENTIAL_INVALID : ErrorCode.CREDENTIAL_MISSING,
                        "upstream \"" + u.name() + "\" has no " + (cred.invalid() ? "usable " : "") + "credential for "
                        + u.auth().header() + ": " + cred.missingReason()));
                return;
            }
        }
        if (!forceFresh && !ledger.hasPermit()) {
            admit(target);
            return;
        }
        connect(forceFresh, target, u);
    }

    /** Asks the upstream's limiter for a start: now, after a wait in its queue, or a 429 at once. */
    private void admit(RouteTarget target) {
        UpstreamState state = ledger.current();
        if (estimate == null) {
            estimate = state.countsTokens
                    ? new TokenEstimator().estimate(new ByteBufInputStream(request.content().duplicate()))
                    : TokenCount.of(0, 0);
        }
        queued = LimiterGate.submit(state.limiter, estimate, rt.ticker().nanos() + rc.deadline.remainingNanos(),
                down.executor(), () -> finished, waited -> {
                    queued = null;
                    rc.queueWaitNanos += waited;
                    rt.metrics().queueWait(rc.upstream, waited);
                }, new LimiterGate.Answer() {
                    @Override
                    public void granted(Permit permit) {
                        ledger.granted(permit);
                        connect(false, target, rt.config().upstream(target.upstream()));
                    }

                    @Override
                    public void rejected(Rejection rejection) {
                        rateLimited(rejection);
                    }
                });
    }

    private void rateLimited(Rejection r) {
        endAttempt(null);
        fail(r.toException());
    }

    private void connect(boolean forceFresh, RouteTarget target, UpstreamSettings u) {
        EgressConfig cfg = rt.config();
        Timeouts t = cfg.timeoutsFor(rc.route, u);
        ProxyHop proxy;
        try {
            proxy = rt.proxyFor(u);
        } catch (EgressException e) {
            onAttemptFailure(e);
            return;
        }
        UpstreamConnector.Target tg = new UpstreamConnector.Target(u, proxy, t, rc.deadline);
        long begin = System.nanoTime();
        rt.pool().acquire(down.channel().eventLoop(), tg, forceFresh).addListener(f -> {
            if (!f.isSuccess()) {
                if (!finished) onAttemptFailure(asEgress(f.cause()));
                return;
            }
            ConnectionPool.Lease l = (ConnectionPool.Lease) f.getNow();
            if (finished) {
                rt.pool().discard(l);
                return;
            }
            rc.connectNanos = System.nanoTime() - begin;
            lease = l;
            rc.proxyAuth = l.channel().attr(UpstreamConnector.PROXY_AUTH).get();
            send(UpstreamConnector.asConnected(tg, l.channel()), target); // failover or PAC may have chosen another proxy
        });
    }

    private void send(UpstreamConnector.Target tg, RouteTarget target) {
        Channel ch = lease.channel();
        relay = new ResponseRelay(this, tg, ch);
        lease.attach(relay);
        HttpRequest out;
        try {
            out = UpstreamRequests.build(request, rc, tg, target);
        } catch (RuntimeException e) {
            fail(asEgress(e)); // a bug must end the exchange, not leave the agent waiting for its deadline
            return;
        }
        ch.writeAndFlush(out).addListener((ChannelFutureListener) w -> {
            if (!w.isSuccess()) {
                onUpstreamBroken(w.cause());
                return;
            }
            if (finished || lease == null || lease.channel() != ch) return; // this attempt is over already
            Deadline.Limit l = rc.deadline.limitFor(tg.timeouts().responseHeaders(), "timeouts.response_headers");
            schedulePhase(l, () -> onAttemptFailure(timeout(ErrorCode.UPSTREAM_RESPONSE_TIMEOUT, l,
                    "upstream " + tg.upstream().authority() + " sent no response headers")));
        });
    }

    /** Arms the one phase timer (response headers, first token or stream idle); a deadline-capped limit fails as such. */
    void schedulePhase(Deadline.Limit limit, Runnable onFire) { timers.phase(limit, onFire); }

    void cancelPhase() { timers.cancelPhase(); }

    /** A limit fired: named after the phase, or the whole deadline when that was the tighter one. */
    EgressException timeout(ErrorCode phaseCode, Deadline.Limit l, String what) {
        if (l.isDeadline()) {
            return new EgressException(ErrorCode.REQUEST_DEADLINE_EXCEEDED, what + " before the request deadline of "
                    + Durations.format(rc.deadline.budget()) + " (" + rc.deadline.source() + ") ran out");
        }
        return new EgressException(phaseCode, what + " within " + Durations.format(l.configured()) + " (" + l.key() + ")");
    }

    /** The upstream connection broke (write failed, closed, or reset). Before any response byte it may be replaced. */
    void onUpstreamBroken(Throwable cause) {
        if (finished) return;
        boolean beforeResponse = relay == null || !relay.sawHead();
        if (beforeResponse && lease != null && lease.reused() && !staleRetried) {
            // A keep-alive connection the server closed while idle: not the upstream's fault, not an attempt.
            staleRetried = true;
            dropLease();
            attempt(true);
            return;
        }
        String host = rc.upstream;
        EgressException e = new EgressException(ErrorCode.UPSTREAM_RESET, "upstream \"" + host + "\" closed the connection "
                + (beforeResponse ? "before sending a response" : relay.committed() ? "mid-response" : "before the first data")
                + (cause == null ? "" : " (" + UpstreamFailures.simple(cause) + ")"));
        if (relay != null && relay.committed()) fail(e);
        else onAttemptFailure(e);
    }

    /**
     * The upstream's answer broke HTTP/1.1 framing (a malformed head or chunk, an unsolicited 101). The connection
     * is closed, never pooled; before the commit point the agent gets our typed error, after it the stream's error.
     */
    void onProtocolError(String what) {
        if (finished) return;
        EgressException e = new EgressException(ErrorCode.UPSTREAM_PROTOCOL_ERROR, "upstream \"" + rc.upstream + "\" " + what);
        if (relay != null && relay.committed()) fail(e);
        else onAttemptFailure(e);
    }

    /** An attempt failed before anything reached the agent: retry it, fall back, or answer with {@code e}. */
    void onAttemptFailure(EgressException e) {
        if (finished) return;
        AttemptOutcome o = AttemptOutcome.failure(e.code());
        if (relay != null && relay.sawHead()) o = o.afterResponseStarted();
        dropLease();
        RetryDecision d = decide(o);
        if (d.isRetry()) return;
        RetryDecision.StopReason why = d.stopReason();
        if (why == RetryDecision.StopReason.BUDGET_EXHAUSTED) e = e.withoutRetry("retry budget of upstream \"" + rc.upstream + "\" spent");
        else if (why == RetryDecision.StopReason.DEADLINE) e = e.withoutRetry("no time left before the request deadline");
        fail(e);
    }

    /**
     * The upstream answered an error status (its body read, at most a few KiB). True when the exchange retries or
     * falls back, in which case the caller drops that answer; false when it goes to the agent as it is.
     */
    boolean retryUpstreamAnswer(int status, HttpHeaders headers, byte[] body) {
        AttemptOutcome o = AttemptOutcome.status(status, UpstreamErrorBody.errorCode(body),
                RetryAfter.parse(headers::get, rt.ticker())).afterResponseStarted();
        return decide(o).isRetry();
    }

    /** The first SSE event of a 200 stream is an error (Azure does this): retry or fall back as for a 5xx. */
    boolean retryInBandError(String eventData) {
        String code = SseErrorEvent.errorCode(eventData);
        int status = "context_length_exceeded".equals(code) ? 400 : 500;
        return decide(AttemptOutcome.status(status, code, java.util.Optional.empty()).afterResponseStarted()).isRetry();
    }

    /** Ends the current attempt with {@code o} and, when the policy says so, schedules the next one. */
    private RetryDecision decide(AttemptOutcome o) {
        endAttempt(o);
        rt.metrics().attempt(rc.upstream, o.metricTag());
        boolean hasNext = RouteTargets.anyAdmittedFrom(rt, rc.route, targetIndex + 1);
        RetryDecision d = policy.decide(o, rc.attempts, hasNext, rc.deadline.remainingNanos(),
                ledger.current().budget::tryAcquireRetry, ThreadLocalRandom.current()::nextDouble);
        switch (d.action()) {
            case RETRY_SAME:
                rt.metrics().retry(o.metricTag());
                ledger.retryPermitted();
                timers.retry(d.delayNanos(), () -> attempt(false));
                break;
            case NEXT_UPSTREAM:
                rt.metrics().retry("fallback");
                targetIndex++;
                timers.retry(d.delayNanos(), () -> attempt(false));
                break;
            default:
                rt.metrics().retryStopped(rc.upstream, d.stopReason().tag());
        }
        return d;
    }

    /** Closes the books on the running attempt: limiter permit, budget, breaker. */
    private void endAttempt(AttemptOutcome o) {
        ledger.end(o, relay == null ? null : relay.usage());
    }

    /** After a retryable answer was read whole: the connection is clean and goes back to the pool. */
    void releaseForRetry(boolean reusable) {
        if (lease != null) {
            rt.pool().release(lease, reusable, rt.config().upstream(rc.upstream).pool());
            lease = null;
        }
        relay = null;
        cancelPhase();
    }

    /** The relay saw the whole response go out. */
    void succeed(boolean upstreamReusable) {
        if (finished) return;
        finished = true;
        cancelTimers();
        if (ledger.isOpen()) {
            rt.metrics().attempt(rc.upstream, "ok");
            endAttempt(AttemptOutcome.status(rc.status));
        }
        if (lease != null) {
            rt.pool().release(lease, upstreamReusable, rt.config().upstream(rc.upstream).pool());
            lease = null;
        }
        // The agent asked to close (Connection: close, HTTP/1.0) or the sidecar is draining: the answer said
        // "Connection: close", so close once it has gone out. A client reading to EOF would otherwise wait forever.
        if (!keepAlive) down.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        end("ok");
    }

    /** Ends the exchange with our own error: a JSON answer before the commit point, an SSE error event after it. */
    public void fail(EgressException e) {
        if (finished) return;
        finished = true;
        cancelTimers();
        rc.error = e.code();
        rt.metrics().error(e.code().code(), rc.routeName());
        AttemptOutcome o = AttemptOutcome.failure(e.code());
        endAttempt(relay != null && relay.committed() ? o.afterCommit() : o);
        boolean committed = relay != null && relay.committed();
        io.modelegress.core.sse.StreamCompletion sse = relay != null && relay.isSse() ? relay.streamShape() : null;
        dropLease();
        if (!committed) rc.status = e.code().status();
        rc.bytesOut += ErrorResponses.answer(down, rc.dialect(), e, rc.requestId, rc.attempts, keepAlive, committed, sse);
        end("error");
    }

    /** The agent went away: cancel the upstream attempt at once, closing (not pooling) its connection. */
    public void cancel() {
        if (finished) return;
        finished = true;
        cancelTimers();
        endAttempt(null);
        dropLease();
        rc.status = 499;
        rt.metrics().cancelled(rc.routeName());
        end("cancelled");
    }

    boolean isFinished() { return finished; }

    /** The agent's socket drained: let the relay read the upstream again. */
    public void onDownstreamWritable() {
        if (relay != null) relay.onDownstreamWritable();
    }

    private void dropLease() {
        cancelPhase(); // a phase timer of this attempt must not fire into the next one
        if (relay != null) relay.discardHeld();
        if (lease != null) {
            rt.pool().discard(lease);
            lease = null;
        }
        relay = null;
    }

    private void cancelTimers() {
        timers.cancelAll();
        if (queued != null && !queued.cancel()) {
            // Granted while we were finishing: the completion above releases it.
            queued = null;
        }
        ledger.abandonPendingRetry();
    }

    private void end(String outcome) {
        rt.bodies().release(request);
        long now = System.nanoTime();
        rt.metrics().request(rc.routeName(), rc.upstream, rc.status, outcome, now - rc.startNanos);
        AccessLog.write(rc, now);
        onDone.run();
    }

    private static EgressException asEgress(Throwable t) {
        if (t instanceof EgressException) return (EgressException) t;
        return new EgressException(ErrorCode.INTERNAL_ERROR, "unexpected failure: " + UpstreamFailures.simple(t), null, t);
    }

    boolean isFinishedOrNot(ResponseRelay r) { return finished || r != relay; }
}
