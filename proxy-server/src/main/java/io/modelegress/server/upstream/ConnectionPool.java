package io.modelegress.server.upstream;

import io.modelegress.core.config.PoolSettings;
import io.modelegress.server.http.HandlerNames;
import io.modelegress.server.http.IdleTimer;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoop;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.FastThreadLocal;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Keep-alive connections per event loop and per (upstream, proxy): only the owning loop touches its deques, so no
 * locks. Idle connections close after {@code pool.idle_timeout}; none is reused past {@code pool.max_lifetime};
 * one that died while idle is dropped, and the caller replaces a reused one that fails before any response byte.
 */
public final class ConnectionPool {
    /** Frames to HTTP/1.1 objects and back on every h2 stream: sharable, so one for all of them. */
    private static final io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec STREAM_CODEC =
            new io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec(false);

    private final Connector connector;
    /** Every upstream connection, pooled or leased, so a stop can close them all (closed ones drop out by themselves). */
    private final io.netty.channel.group.ChannelGroup all;
    private final FastThreadLocal<Map<String, ArrayDeque<Watch>>> idle = new FastThreadLocal<>() {
        @Override
        protected Map<String, ArrayDeque<Watch>> initialValue() { return new HashMap<>(); }
    };
    private final Map<String, Counts> counts = new ConcurrentHashMap<>();
    /** Upstreams that offer h2: streams on few connections (docs/http2.md). */
    private final H2Sessions h2;

    public ConnectionPool(Connector connector, io.netty.channel.group.ChannelGroup all) {
        this.connector = connector;
        this.all = all;
        this.h2 = new H2Sessions(this, connector);
    }

    /** A connection lent to one exchange; {@code reused} tells a stale keep-alive connection from a fresh one. */
    public record Lease(Channel channel, boolean reused, String key, Watch watch) {
        /** Routes what the connection reads to {@code reader} (until the lease is released or discarded). */
        void attach(ResponseReader reader) { watch.relay = reader; }
    }

    /** Live connection counts of one upstream, for {@code egress_upstream_connections{upstream,state}}. */
    /**
     * What the gauges show of an upstream's connections. Adders, not atomics: every exchange moves a connection from
     * idle to active and back, from each event loop, and a shared atomic made each move a cache-line transfer
     * between cores. Read only by a scrape.
     */
    public static final class Counts {
        public final LongAdder active = new LongAdder();
        public final LongAdder idle = new LongAdder();
        public final LongAdder opened = new LongAdder();
        /** HTTP/2 streams in flight, for {@code egress_upstream_streams{upstream}}. */
        public final LongAdder streams = new LongAdder();
    }

    public Counts counts(String upstream) { return counts.computeIfAbsent(upstream, k -> new Counts()); }

    public Map<String, Counts> allCounts() { return counts; }

    /** A pooled connection when one is alive and young enough, else a new one; {@code fresh} skips the pool. */
    public Future<Lease> acquire(EventLoop loop, UpstreamConnector.Target t, boolean fresh) {
        String key = key(t);
        Counts c = counts(t.upstream().name());
        // h2 streams are never pooled, so fresh means nothing there: a dead or draining connection takes no stream.
        if (t.upstream().offersHttp2() && !h2.http1Only(key)) return h2.acquire(loop, t, key, c);
        ArrayDeque<Watch> deque = fresh ? null : idle.get().get(key);
        long now = System.nanoTime();
        while (deque != null && !deque.isEmpty()) {
            Watch w = deque.pollLast(); // most recently used: warmest, least likely to have been closed
            c.idle.decrement();
            Channel ch = w.channel;
            if (ch.isActive() && now - w.createdNanos < t.upstream().pool().maxLifetime().toNanos()) {
                w.pooled = false;
                c.active.increment();
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
            p.setSuccess(adoptHttp1(ch(f), t, key, c));
        });
        return p;
    }

    private static Channel ch(Future<?> f) { return (Channel) f.getNow(); }

    /** A new connection, counted (opened, closed at stop). */
    void track(Channel ch, Counts c) {
        all.add(ch);
        c.opened.increment();
    }

    /** A new HTTP/1.1 connection, leased at once. */
    Lease adoptHttp1(Channel ch, UpstreamConnector.Target t, String key, Counts c) {
        track(ch, c);
        c.active.increment();
        Watch w = new Watch(ch, key, c, false);
        ch.pipeline().addLast(HandlerNames.POOL_WATCH, w);
        return new Lease(ch, false, key, w);
    }

    /** A new h2 stream on {@code conn}, read and written as HTTP/1.1 objects like a connection of its own. */
    Lease adoptStream(io.netty.handler.codec.http2.Http2StreamChannel child, H2Connection conn, String key, Counts c, boolean reused) {
        child.attr(UpstreamConnector.PROXY_USED).set(conn.channel.attr(UpstreamConnector.PROXY_USED).get());
        child.attr(UpstreamConnector.PROXY_AUTH).set(conn.channel.attr(UpstreamConnector.PROXY_AUTH).get());
        Watch w = new Watch(child, key, c, true);
        child.pipeline().addLast(HandlerNames.CLIENT_CODEC, STREAM_CODEC);
        child.pipeline().addLast(HandlerNames.POOL_WATCH, w);
        return new Lease(child, reused, key, w);
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
        if (w.stream) {
            discard(lease); // a stream is never reused: closed (a RST_STREAM only if it had not ended)
            return;
        }
        if (w.released) return;
        w.counts.active.decrement();
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
        w.idleFrom(settings);
        ch.config().setAutoRead(true); // notice a close by the server while idle
        deque.addLast(w);
        w.counts.idle.increment();
    }

    /** Closes a connection that must not be reused (failed or cancelled exchange). */
    public void discard(Lease lease) {
        Watch w = lease.watch();
        w.relay = null;
        if (!w.released) {
            w.released = true;
            if (!w.stream) w.counts.active.decrement();
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
        /** An h2 stream (its own channel on a shared connection), not a connection: never pooled, not counted here. */
        final boolean stream;
        boolean pooled;
        boolean released;
        /** The attempt's reader while leased: installed by a field write, not a pipeline change per request. */
        ResponseReader relay;
        /** h2: the GOAWAY that left this stream out, told to the reader once the codec has closed the stream. */
        Throwable refused;
        /**
         * {@code pool.idle_timeout}, counted from the last return to the pool; a leased connection has no idle
         * bookkeeping at all (its check stops, and the next return arms it). Made at the first return.
         */
        private IdleTimer idleTimer;

        void idleFrom(PoolSettings settings) {
            if (idleTimer == null) idleTimer = new IdleTimer(channel.eventLoop(), settings.idleTimeout().toNanos(),
                    () -> pooled && channel.isActive(), channel::close);
            idleTimer.idleFrom(idleTimer.now());
        }

        Watch(Channel channel, String key, Counts counts, boolean stream) {
            this.channel = channel;
            this.key = key;
            this.counts = counts;
            this.stream = stream;
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
            if (stream) H2Streams.strip(msg);
            if (r != null) r.read(msg);
            else ctx.fireChannelRead(msg); // a health check's reader after us, or the tail, which releases it
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ResponseReader r = relay;
            if (r != null) r.exception(ctx, cause);
            else ctx.fireExceptionCaught(cause);
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (stream) {
                H2Streams.event(this, ctx, evt);
                return;
            }
            ctx.fireUserEventTriggered(evt);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (idleTimer != null) idleTimer.cancel();
            ResponseReader r = relay;
            if (r != null && refused != null) r.exception(ctx, refused);
            else if (r != null) r.inactive();
            if (stream) {
                released = true;
                ctx.fireChannelInactive();
                return;
            }
            if (pooled) {
                ArrayDeque<Watch> deque = idle.get().get(key);
                if (deque != null && deque.remove(this)) counts.idle.decrement();
                pooled = false;
            } else if (!released) {
                counts.active.decrement();
            }
            released = true;
            ctx.fireChannelInactive();
        }
    }
}
