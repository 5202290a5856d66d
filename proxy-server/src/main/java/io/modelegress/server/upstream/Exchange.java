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
import io.modelegress.server.pipeline.HandlerNames;
import io.modelegress.server.server.EgressRuntime;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

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
    private ScheduledFuture<?> deadlineTimer;
    private ScheduledFuture<?> phaseTimer;
    private boolean finished;
    private boolean staleRetried;

    public Exchange(EgressRuntime rt, ChannelHandlerContext down, FullHttpRequest request, RequestContext rc,
                    boolean keepAlive, Runnable onDone) {
        this.rt = rt;
        this.down = down;
        this.request = request;
        this.rc = rc;
        this.keepAlive = keepAlive;
        this.onDone = onDone;
    }

    public RequestContext context() { return rc; }

    ChannelHandlerContext downstream() { return down; }

    EgressRuntime runtime() { return rt; }

    boolean keepAlive() { return keepAlive; }

    public void start() {
        deadlineTimer = down.executor().schedule(() -> fail(new EgressException(ErrorCode.REQUEST_DEADLINE_EXCEEDED,
                        "the request did not complete within " + Durations.format(rc.deadline.budget()) + " ("
                                + rc.deadline.source() + "); last upstream " + rc.upstream)),
                rc.deadline.remainingNanos(), TimeUnit.NANOSECONDS);
        attempt(false);
    }

    private void attempt(boolean forceFresh) {
        if (finished) return;
        EgressConfig cfg = rt.config();
        RouteTarget target = rc.route.upstreams().get(targetIndex);
        UpstreamSettings u = cfg.upstream(target.upstream());
        rc.upstream = u.name();
        if (!forceFresh) rc.attempts++;
        if (u.auth() != null) {
            SecretSource.Resolved cred = u.auth().value().current();
            if (!cred.present()) {
                fail(new EgressException(ErrorCode.CREDENTIAL_MISSING, "upstream \"" + u.name() + "\" has no credential for "
                        + u.auth().header() + ": " + cred.missingReason()));
                return;
            }
        }
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
            send(tg, target);
        });
    }

    private void send(UpstreamConnector.Target tg, RouteTarget target) {
        Channel ch = lease.channel();
        relay = new ResponseRelay(this, tg);
        ch.pipeline().addLast(HandlerNames.EXCHANGE, relay);
        HttpRequest out = UpstreamRequests.build(request, rc, tg, target);
        ch.writeAndFlush(out).addListener((ChannelFutureListener) w -> {
            if (!w.isSuccess()) {
                onUpstreamBroken(w.cause());
                return;
            }
            Deadline.Limit l = rc.deadline.limitFor(tg.timeouts().responseHeaders(), "timeouts.response_headers");
            schedulePhase(l, () -> onAttemptFailure(timeout(ErrorCode.UPSTREAM_RESPONSE_TIMEOUT, l,
                    "upstream " + tg.upstream().authority() + " sent no response headers")));
        });
    }

    /** Arms the one phase timer (response headers, first token or stream idle); a deadline-capped limit fails as such. */
    void schedulePhase(Deadline.Limit limit, Runnable onFire) {
        cancelPhase();
        phaseTimer = down.executor().schedule(() -> {
            if (!finished) onFire.run();
        }, limit.nanos(), TimeUnit.NANOSECONDS);
    }

    void cancelPhase() {
        if (phaseTimer != null) {
            phaseTimer.cancel(false);
            phaseTimer = null;
        }
    }

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

    /** An attempt failed before anything reached the agent. Retries and fallbacks decide here. */
    void onAttemptFailure(EgressException e) {
        if (finished) return;
        rt.metrics().attempt(rc.upstream, e.code().code());
        fail(e);
    }

    /** The relay saw the whole response go out. */
    void succeed(boolean upstreamReusable) {
        if (finished) return;
        finished = true;
        cancelTimers();
        rt.metrics().attempt(rc.upstream, "ok");
        if (lease != null) {
            lease.channel().pipeline().remove(relay);
            rt.pool().release(lease, upstreamReusable, rt.config().upstream(rc.upstream).pool());
            lease = null;
        }
        end("ok");
    }

    /** Ends the exchange with our own error: a JSON answer before the commit point, an SSE error event after it. */
    public void fail(EgressException e) {
        if (finished) return;
        finished = true;
        cancelTimers();
        rc.error = e.code();
        rt.metrics().error(e.code().code(), rc.routeName());
        boolean committed = relay != null && relay.committed();
        boolean sse = relay != null && relay.isSse();
        dropLease();
        if (!committed) {
            rc.status = e.code().status();
            var resp = ErrorResponses.response(down.alloc(), rc.dialect(), e, rc.requestId, rc.attempts, keepAlive);
            rc.bytesOut += resp.content().readableBytes();
            var f = down.writeAndFlush(resp);
            if (!keepAlive) f.addListener(ChannelFutureListener.CLOSE);
        } else if (sse) {
            down.write(ErrorResponses.sseEvent(down.alloc(), rc.dialect(), e));
            down.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
        } else {
            // A plain body cut mid-way: close, so the client sees a truncated response at once.
            down.close();
        }
        end("error");
    }

    /** The agent went away: cancel the upstream attempt at once, closing (not pooling) its connection. */
    public void cancel() {
        if (finished) return;
        finished = true;
        cancelTimers();
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
        if (relay != null) relay.discardHeld();
        if (lease != null) {
            rt.pool().discard(lease);
            lease = null;
        }
        relay = null;
    }

    private void cancelTimers() {
        cancelPhase();
        if (deadlineTimer != null) deadlineTimer.cancel(false);
    }

    private void end(String outcome) {
        request.release();
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
