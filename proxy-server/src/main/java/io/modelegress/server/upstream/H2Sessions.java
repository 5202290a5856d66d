package io.modelegress.server.upstream;

import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.util.concurrent.FastThreadLocal;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The HTTP/2 side of the pool, for upstreams that offer h2 ({@code http2: auto} over TLS): per event loop and
 * upstream, the open h2 connections and those being opened. A request takes a stream on an open connection below the
 * server's {@code SETTINGS_MAX_CONCURRENT_STREAMS}; else it waits for a connection being opened that has room; only
 * then is another connection opened. An upstream whose TLS settles on http/1.1 is remembered, and the pool's HTTP/1.1
 * path serves it from then on. Only the owning loop touches its lists, so no locks.
 */
final class H2Sessions {
    private final ConnectionPool pool;
    private final Connector connector;
    private final FastThreadLocal<Map<String, PerUpstream>> perLoop = new FastThreadLocal<>() {
        @Override
        protected Map<String, PerUpstream> initialValue() { return new HashMap<>(); }
    };
    /** Upstreams whose TLS chose http/1.1 (ALPN not offered back, or h1 picked): never asked for h2 again. */
    private final Set<String> http1Only = ConcurrentHashMap.newKeySet();
    /** The last limit each upstream's server announced: how many waiters one connection being opened takes (unknown: all). */
    private final Map<String, Integer> lastMax = new ConcurrentHashMap<>();

    H2Sessions(ConnectionPool pool, Connector connector) {
        this.pool = pool;
        this.connector = connector;
    }

    boolean http1Only(String key) { return http1Only.contains(key); }

    private static final class PerUpstream {
        final List<H2Connection> open = new ArrayList<>();
        final List<Pending> pending = new ArrayList<>();
    }

    /** A connection being opened, and the requests waiting for a stream on it. */
    private static final class Pending {
        final int room;
        final List<Promise<ConnectionPool.Lease>> waiters = new ArrayList<>();

        Pending(int room) { this.room = room; }
    }

    Future<ConnectionPool.Lease> acquire(EventLoop loop, UpstreamConnector.Target t, String key, ConnectionPool.Counts c) {
        Promise<ConnectionPool.Lease> p = loop.newPromise();
        acquire(loop, t, key, c, p);
        return p;
    }

    private void acquire(EventLoop loop, UpstreamConnector.Target t, String key, ConnectionPool.Counts c, Promise<ConnectionPool.Lease> p) {
        if (http1Only.contains(key)) {
            pool.acquire(loop, t, false).addListener(f -> complete(p, f));
            return;
        }
        PerUpstream u = perLoop.get().computeIfAbsent(key, k -> new PerUpstream());
        for (H2Connection conn : u.open) {
            if (conn.canTakeStream()) {
                stream(conn, key, c, p);
                return;
            }
        }
        for (Pending pend : u.pending) {
            if (pend.waiters.size() < pend.room) {
                pend.waiters.add(p);
                return;
            }
        }
        // Until a server of this upstream has named its limit, every request waits for the one connection being
        // opened (RFC 9113: unlimited until known), and is shared out once its SETTINGS say how many it takes.
        Pending pend = new Pending(lastMax.getOrDefault(key, Integer.MAX_VALUE));
        pend.waiters.add(p);
        u.pending.add(pend);
        connector.connect(loop, t).addListener(f -> {
            u.pending.remove(pend);
            if (!f.isSuccess()) {
                for (Promise<ConnectionPool.Lease> w : pend.waiters) w.tryFailure(f.cause());
                return;
            }
            Channel ch = (Channel) f.getNow();
            H2Connection conn = H2Connection.of(ch);
            if (conn == null) {
                // The upstream chose HTTP/1.1: this connection serves the first waiter, the pool's h1 path the rest.
                http1Only.add(key);
                List<Promise<ConnectionPool.Lease>> rest = pend.waiters.subList(1, pend.waiters.size());
                ConnectionPool.Lease first = pool.adoptHttp1(ch, t, key, c);
                if (!pend.waiters.get(0).trySuccess(first)) pool.discard(first);
                for (Promise<ConnectionPool.Lease> w : rest) acquire(loop, t, key, c, w);
                return;
            }
            pool.track(ch, c);
            if (!conn.adopt(c, t.upstream().pool().maxLifetime().toNanos(), () -> u.open.remove(conn))) {
                // Closed between its SETTINGS and now: the waiters fail as on a reset (retried by the policy), no loop.
                Throwable closed = UpstreamFailures.closed(t.upstream().name(), "before sending a response", null);
                for (Promise<ConnectionPool.Lease> w : pend.waiters) w.tryFailure(closed);
                return;
            }
            ch.pipeline().addBefore(H2Connection.NAME, io.modelegress.server.http.HandlerNames.POOL_IDLE,
                    new io.netty.handler.timeout.IdleStateHandler(0, 0, t.upstream().pool().idleTimeout().toMillis(),
                            java.util.concurrent.TimeUnit.MILLISECONDS));
            lastMax.put(key, Math.max(1, conn.maxStreams()));
            u.open.add(conn);
            for (Promise<ConnectionPool.Lease> w : pend.waiters) acquire(loop, t, key, c, w);
        });
    }

    private void stream(H2Connection conn, String key, ConnectionPool.Counts c, Promise<ConnectionPool.Lease> p) {
        boolean reused = conn.used();
        conn.openStream().addListener(f -> {
            if (!f.isSuccess()) {
                p.tryFailure(f.cause());
                return;
            }
            Http2StreamChannel child = (Http2StreamChannel) f.getNow();
            ConnectionPool.Lease lease = pool.adoptStream(child, conn, key, c, reused);
            if (!p.trySuccess(lease)) pool.discard(lease);
        });
    }

    private static void complete(Promise<ConnectionPool.Lease> p, Future<?> f) {
        if (f.isSuccess()) {
            ConnectionPool.Lease l = (ConnectionPool.Lease) f.getNow();
            if (!p.trySuccess(l)) l.channel().close();
        } else {
            p.tryFailure(f.cause());
        }
    }
}
