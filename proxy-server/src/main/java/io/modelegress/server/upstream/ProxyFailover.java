package io.modelegress.server.upstream;

import io.modelegress.core.error.EgressException;
import io.modelegress.server.metrics.EgressMetrics;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import java.util.ArrayList;
import java.util.List;

/**
 * An upstream's proxy route, leg by leg ({@link ProxyPlanner}: a failover list or a PAC answer): each leg is one
 * {@link UpstreamConnector#connectOnce}, the next is tried while the proxy itself failed at connect and the deadline
 * allows, the failed proxy is ejected and a working one restored; a leg through a proxy (or DIRECT in a failover
 * list) is counted in {@code egress.proxy.attempts}. One per connector.
 */
final class ProxyFailover {
    private final UpstreamConnector connector;
    private final ProxyPlanner planner;
    private final EgressMetrics metrics;

    ProxyFailover(UpstreamConnector connector, ProxyPlanner planner, EgressMetrics metrics) {
        this.connector = connector;
        this.planner = planner;
        this.metrics = metrics;
    }

    /** A connection through the first leg that works; the error of the last one tried (naming those before) if none. */
    Future<Channel> connect(EventLoop loop, UpstreamConnector.Target t) {
        Promise<Channel> ready = loop.newPromise();
        planner.routeFor(t.upstream()).whenComplete((route, err) -> {
            if (loop.inEventLoop()) begin(loop, t, route, err, ready);
            else loop.execute(() -> begin(loop, t, route, err, ready));
        });
        return ready;
    }

    private void begin(EventLoop loop, UpstreamConnector.Target t, ProxyRoute route, Throwable err, Promise<Channel> ready) {
        if (err != null) {
            Throwable c = err instanceof java.util.concurrent.CompletionException && err.getCause() != null ? err.getCause() : err;
            ready.tryFailure(c);
            return;
        }
        tryLeg(loop, t, route, 0, new ArrayList<>(0), ready);
    }

    private void tryLeg(EventLoop loop, UpstreamConnector.Target t, ProxyRoute route, int i, List<String> failed, Promise<Channel> ready) {
        ProxyRoute.Leg leg = route.legs().get(i);
        boolean counted = leg.hop() != null || route.isFailover();
        connector.connectOnce(loop, t.withProxy(leg.hop())).addListener(f -> {
            if (f.isSuccess()) {
                Channel ch = (Channel) f.getNow();
                ch.attr(UpstreamConnector.PROXY_USED).set(new UpstreamConnector.Used(leg.hop()));
                if (counted) metrics.proxyAttempt(leg.label(), "ok");
                planner.ejections().restore(leg.step());
                if (!ready.trySuccess(ch)) ch.close();
                return;
            }
            EgressException e = UpstreamFailures.asEgress(f.cause());
            if (counted) metrics.proxyAttempt(leg.label(), e.code().code());
            boolean proxyDown = UpstreamFailures.proxyItselfFailed(e, leg.hop());
            if (proxyDown) planner.ejections().eject(leg.step());
            if (proxyDown && i + 1 < route.legs().size() && !t.deadline().expired()) {
                failed.add(leg.label() + " (" + leg.step().source() + "): " + e.code().code());
                tryLeg(loop, t, route, i + 1, failed, ready);
                return;
            }
            if (!failed.isEmpty()) {
                e = new EgressException(e.code(), e.getMessage() + " (failover: tried before " + String.join(", ", failed)
                        + ")", e.retryAfter(), e.getCause());
            }
            ready.tryFailure(e);
        });
    }
}
