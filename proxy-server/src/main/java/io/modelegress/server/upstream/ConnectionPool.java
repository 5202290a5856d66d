package io.modelegress.server.upstream;

import io.modelegress.core.config.PoolSettings;
import io.modelegress.server.http.HandlerNames;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoop;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.FastThreadLocal;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Keep-alive connections per event loop and per (upstream, proxy): only the owning loop touches its deques, so no
 * locks. Idle connections close after {@code pool.idle_timeout}; none is reused past {@code pool.max_lifetime};
 * one that died while idle is dropped, and the caller replaces a reused one that fails before any response byte.
 */
public final class ConnectionPool {
    private static final String IDLE = HandlerNames.POOL_IDLE;

    private final Connector connector;
    /** Every upstream connection, pooled or leased, so a stop can close them all (closed ones drop out by themselves). */
    private final io.netty.channel.group.ChannelGroup all;
    private final FastThreadLocal<Map<String, ArrayDeque<Watch>>> idle = new FastThreadLocal<>() {
        @Override
        protected Map<String, ArrayDeque<Watch>> initialValue() { return new HashMap<>(); }
    };
    private final Map<String, Counts> counts = new ConcurrentHashMap<>();

    public ConnectionPool(Connector connector, io.netty.channel.group.ChannelGroup all) {
        this.connector = connector;
        this.all = all;
    }

    /** A connection lent to one exchange; {@code reused} tells a stale keep-alive connection from a fresh one. */
    public record Lease(Channel channel, boolean reused, String key, Watch watch) {
        /** Routes what the connection reads to {@code reader} (until the lease is released or discarded). */
        void attach(ResponseReader reader) { watch.relay = reader; }
    }

    /** Live connection counts of one upstream, for {@code egress_upstream_connections{upstream,state}}. */
    public static final class Counts {
        public final AtomicInteger active = new AtomicInteger();
        public final AtomicInteger idle = new AtomicInteger();
        public final AtomicInteger opened = new AtomicInteger();
    }

    public Counts counts(String upstream) { return counts.computeIfAbsent(upstream, k -> new Counts()); }

    public Map<String, Counts> allCounts() { return counts; }

    /** A pooled connection when one is alive and young enough, else a new one; {@code fresh} skips the pool. */
    public Future<Lease> acquire(EventLoop loop, UpstreamConnector.Target t, boolean fresh) {
        String key = key(t);
        Counts c = counts(t.upstream().name());
        ArrayDeque<Watch> deque = fresh ? null : idle.get().get(key);
        long now = System.nanoTime();
        while (deque != null && !deque.isEmpty()) {
            Watch w = deque.pollLast(); // most recently used: warmest, least likely to have been closed
            c.idle.decrementAndGet();
            Channel ch = w.channel;
            if (ch.isActive() && now - w.createdNanos < t.upstream().pool().maxLifetime().toNanos()) {
                w.pooled = false;
                c.active.incrementAndGet();
                return loop.newSucceededFuture(new Lease(ch, true, key, w));
            }
            ch.close();
        }
        Promise<Lease> p = loop.newPromise();
        connector.connect(loop, t).addListener(f -> {
            if (!f.isSuccess()) {
                p.setFailure(f.cause());
                return;
            }
            Channel ch = (Channel) f.getNow();
            all.add(ch);
            c.opened.incrementAndGet();
            c.active.incrementAndGet();
            // Installed once per connection; its idle events matter only while the connection sits in the pool.
            ch.pipeline().addLast(IDLE, new IdleStateHandler(0, 0, t.upstream().pool().idleTimeout().toMillis(), TimeUnit.MILLISECONDS));
            Watch w = new Watch(ch, key, c);
            ch.pipeline().addLast(HandlerNames.POOL_WATCH, w);
            p.setSuccess(new Lease(ch, false, key, w));
        });
        return p;
    }

    /**
     * A new connection that never enters the pool (a WebSocket takes it over for good), closed with the others at stop.
     */
    public Future<Channel> open(EventLoop loop, UpstreamConnector.Target t) {
        Future<Channel> f = connector.connect(loop, t);
        f.addListener(done -> {
            if (done.isSuccess()) all.add((Channel) done.getNow());
        });
        return f;
    }

    /** Returns a connection after a complete exchange; {@code reusable} false closes it instead. */
    public void release(Lease lease, boolean reusable, PoolSettings settings) {
        Channel ch = lease.channel();
        Watch w = lease.watch();
        w.relay = null;
        if (w.released) return;
        w.counts.active.decrementAndGet();
        boolean tooOld = System.nanoTime() - w.createdNanos >= settings.maxLifetime().toNanos();
        Map<String, ArrayDeque<Watch>> map = idle.get();
        ArrayDeque<Watch> deque = map.get(lease.key());
        if (deque == null) map.put(lease.key(), deque = new ArrayDeque<>());
        if (!reusable || tooOld || !ch.isActive() || deque.size() >= settings.maxIdle() || !ch.eventLoop().inEventLoop()) {
            w.released = true;
            ch.close();
            return;
        }
        w.pooled = true;
        ch.config().setAutoRead(true); // notice a close by the server while idle
        deque.addLast(w);
        w.counts.idle.incrementAndGet();
    }

    /** Closes a connection that must not be reused (failed or cancelled exchange). */
    public void discard(Lease lease) {
        Watch w = lease.watch();
        w.relay = null;
        if (!w.released) {
            w.released = true;
            w.counts.active.decrementAndGet();
        }
        lease.channel().close();
    }

    /** A pool serves one config generation, in which an upstream's URL and proxy are fixed: its name is the key. */
    private static String key(UpstreamConnector.Target t) {
        return t.upstream().name();
    }

    /**
     * Sits last in a pooled connection's pipeline: drops it from the pool when it closes or idles out, and while
     * the connection is leased hands what it reads (messages, close, errors) to the exchange's relay.
     */
    final class Watch extends ChannelInboundHandlerAdapter {
        final Channel channel;
        final String key;
        final Counts counts;
        final long createdNanos = System.nanoTime();
        boolean pooled;
        boolean released;
        /** The attempt's reader while leased: installed by a field write, not a pipeline change per request. */
        ResponseReader relay;

        Watch(Channel channel, String key, Counts counts) {
            this.channel = channel;
            this.key = key;
            this.counts = counts;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (pooled) {
                // An idle connection must not receive anything; whatever it is, the connection is unusable.
                ReferenceCountUtil.release(msg);
                ctx.close();
                return;
            }
            ResponseReader r = relay;
            if (r != null) r.read(msg);
            else ctx.fireChannelRead(msg);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ResponseReader r = relay;
            if (r != null) r.exception(ctx, cause);
            else ctx.fireExceptionCaught(cause);
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof IdleStateEvent) {
                // The idle handler counts from the last I/O, which for a pooled connection is when it was returned.
                if (pooled) ctx.close();
                return;
            }
            ctx.fireUserEventTriggered(evt);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            ResponseReader r = relay;
            if (r != null) r.inactive();
            if (pooled) {
                ArrayDeque<Watch> deque = idle.get().get(key);
                if (deque != null && deque.remove(this)) counts.idle.decrementAndGet();
                pooled = false;
            } else if (!released) {
                counts.active.decrementAndGet();
            }
            released = true;
            ctx.fireChannelInactive();
        }
    }
}
