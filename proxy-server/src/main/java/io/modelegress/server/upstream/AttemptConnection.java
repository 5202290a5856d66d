package io.modelegress.server.upstream;

import io.modelegress.core.config.UpstreamSettings;
import io.modelegress.core.error.EgressException;
import io.modelegress.server.http.RequestContext;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.GenericFutureListener;

/**
 * The upstream connection of one {@link UpstreamAttempt}: asked of the pool (the proxy chosen, the time it took, its
 * events), held as a lease while the attempt reads, and given back exactly once — pooled when the answer left it
 * reusable, discarded otherwise. It is the pool's listener itself, in place of the lambda that was.
 */
final class AttemptConnection implements GenericFutureListener<Future<ConnectionPool.Lease>> {
    private final UpstreamAttempt attempt;
    private final ExchangeContext rt;
    private final RequestContext rc;
    private final UpstreamConnector.Target target;
    private final long begin;
    private ConnectionPool.Lease lease;

    private AttemptConnection(UpstreamAttempt attempt, ExchangeContext rt, RequestContext rc, UpstreamConnector.Target target) {
        this.attempt = attempt;
        this.rt = rt;
        this.rc = rc;
        this.target = target;
        this.begin = System.nanoTime();
    }

    /**
     * Asks the pool for a connection ({@code fresh}: a new one, for the replay of a request a stale one lost); the
     * attempt hears of it in {@link UpstreamAttempt#connected}, or fails.
     */
    static void open(UpstreamAttempt attempt, ExchangeContext rt, RequestContext rc, EventLoop loop, boolean fresh) {
        UpstreamSettings settings = attempt.upstreamState().settings;
        ProxyHop proxy;
        try {
            proxy = rt.proxyFor(settings);
        } catch (EgressException e) {
            attempt.fail(e);
            return;
        }
        AttemptConnection c = new AttemptConnection(attempt, rt, rc,
                new UpstreamConnector.Target(settings, proxy, rt.config().timeoutsFor(rc.route, settings), rc.deadline));
        rt.events().connectStart(rc, settings.name());
        rt.pool().acquire(loop, c.target, fresh).addListener(c);
    }

    @Override
    public void operationComplete(Future<ConnectionPool.Lease> f) {
        if (attempt.isOver()) {
            if (f.isSuccess()) rt.pool().discard(f.getNow());
            return;
        }
        if (!f.isSuccess()) {
            attempt.fail(UpstreamFailures.unexpected(f.cause()));
            return;
        }
        lease = f.getNow();
        rc.connectNanos = System.nanoTime() - begin;
        rc.proxyAuth = lease.channel().attr(UpstreamConnector.PROXY_AUTH).get();
        rc.upstreamProtocol = lease.watch().stream ? "h2" : "h1";
        rt.events().connectEnd(rc, target.upstream().name(), rc.connectNanos);
        attempt.connected(this, UpstreamConnector.asConnected(target, lease.channel())); // failover or PAC may have chosen another proxy
    }

    ConnectionPool.Lease lease() { return lease; }

    /** Whether the lease is a pooled connection used before (one the server may have closed while it sat idle). */
    boolean reused() { return lease != null && lease.reused(); }

    /** Back to the pool after a complete answer ({@code reusable} false: closed instead). */
    /** Back to the pool when reusable; a connection left in the middle of a streamed body never is. */
    void release(boolean reusable, FullHttpRequest request) {
        if (lease != null) {
            reusable &= StreamedUploads.detach(request, lease.channel());
            rt.pool().release(lease, reusable, target.upstream().pool());
            lease = null;
        }
    }

    void discard(FullHttpRequest request) {
        if (lease != null) {
            StreamedUploads.detach(request, lease.channel());
            rt.pool().discard(lease);
            lease = null;
        }
    }
}
