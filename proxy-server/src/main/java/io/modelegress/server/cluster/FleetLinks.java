package io.modelegress.server.cluster;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.metrics.CommandLatencyRecorder;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.Delay;
import io.modelegress.core.config.ClusterSettings;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.util.HashedWheelTimer;
import io.netty.util.concurrent.DefaultEventExecutorGroup;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.EventExecutorGroup;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

/**
 * The connections to the fleet's Redis: one pipelined script connection per sidecar event loop, on that loop (a
 * request's reservation is written and answered on its own thread: no hand-off to Lettuce's threads and back, and
 * the scripts asked during one turn of the loop leave in one write), and one pub/sub connection. Keys and arguments
 * are bytes prepared by the callers. With loops Lettuce cannot use (a different transport), one connection on
 * Lettuce's own thread instead. Lettuce's command latency recording is off: nothing reads it (it is off by default
 * too while LatencyUtils is not on the classpath; this keeps it off if it ever is).
 */
final class FleetLinks implements AutoCloseable {
    private final RedisURI uri;
    private final Link[] links;
    private final RedisClient pubsubClient;
    private final EventExecutorGroup lettuceTasks;
    private final HashedWheelTimer timer;
    private final Consumer<Throwable> onFailure;
    private final Map<String, String> sha = new ConcurrentHashMap<>();
    private final long timeoutNanos;

    /** {@code loops}: the sidecar's event loops, or null for Lettuce's own thread. */
    FleetLinks(ClusterSettings settings, EventLoopGroup loops, Consumer<Throwable> onFailure) {
        this.onFailure = onFailure;
        this.uri = RedisURI.create(settings.redisUrl());
        if (settings.password() != null) uri.setAuthentication(settings.password().toCharArray());
        // The handshake (HELLO, AUTH) of a fresh connection may take longer than one command: it has its own bound.
        uri.setTimeout(settings.timeout().compareTo(Duration.ofSeconds(2)) > 0 ? settings.timeout() : Duration.ofSeconds(2));
        // Reconnects, command timeouts and Lettuce's events: rare, and a reconnect may resolve a name (blocking),
        // so they run on one thread of Lettuce's own, never on a sidecar loop.
        this.lettuceTasks = new DefaultEventExecutorGroup(1, new DefaultThreadFactory("egress-redis", true));
        this.timer = new HashedWheelTimer(new DefaultThreadFactory("egress-redis-timer", true));
        ClientOptions.Builder options = ClientOptions.builder()
                .autoReconnect(true)
                // Fail at once while disconnected: a queued command would only answer after the timeout.
                .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                .socketOptions(SocketOptions.builder().connectTimeout(Duration.ofSeconds(1)).build());
        this.timeoutNanos = settings.timeout().toNanos();
        List<Link> made = new ArrayList<>();
        if (loops != null) {
            // On a loop, the loop itself times its commands (Link.Deadlines): Lettuce's timer thread would count
            // the time the loop was busy with other work while the answer sat unread in the socket.
            ClientOptions onLoop = options.timeoutOptions(TimeoutOptions.builder().timeoutCommands(false).build()).build();
            for (EventExecutor e : loops) made.add(new Link((EventLoop) e, client(resources((EventLoop) e), onLoop), timeoutNanos));
        } else {
            made.add(new Link(null, client(resources(null), options.timeoutOptions(TimeoutOptions.enabled(settings.timeout())).build()), timeoutNanos));
        }
        this.links = made.toArray(Link[]::new);
        this.pubsubClient = links[0].client;
    }

    private ClientResources resources(EventLoop loop) {
        ClientResources.Builder b = ClientResources.builder().eventExecutorGroup(lettuceTasks).timer(timer)
                .commandLatencyRecorder(CommandLatencyRecorder.disabled())
                .reconnectDelay(Delay.constant(Duration.ofMillis(250)));
        return (loop != null ? b.eventLoopGroupProvider(new FixedLoop(loop)) : b.ioThreadPoolSize(1)).build();
    }

    private static RedisClient client(ClientResources resources, ClientOptions options) {
        RedisClient c = RedisClient.create(resources);
        c.setOptions(options);
        return c;
    }

    /** Whether every script connection is open. */
    boolean connected() {
        for (Link l : links) if (l.conn == null) return false;
        return true;
    }

    /** Opens the script connections not open yet; {@code done} hears the first failure, or null when all are open. */
    void connect(Consumer<Throwable> done) {
        List<Link> missing = new ArrayList<>();
        for (Link l : links) if (l.conn == null) missing.add(l);
        if (missing.isEmpty()) {
            done.accept(null);
            return;
        }
        int[] left = {missing.size()};
        Throwable[] first = {null};
        for (Link l : missing) {
            l.client.connectAsync(ByteArrayCodec.INSTANCE, uri).whenComplete((c, e) -> {
                Throwable failed;
                synchronized (left) {
                    if (e == null) {
                        // Loaded at once, ahead of any EVALSHA on this connection: the first request then needs one
                        // round trip, not a NOSCRIPT and a second one.
                        for (String script : FleetScripts.ALL) c.async().scriptLoad(bytes(script));
                        // On a loop, the scripts asked during one turn of it go out in one write (Link.flushSoon).
                        if (l.loop != null) c.setAutoFlushCommands(false);
                        l.conn = c;
                    }
                    else if (first[0] == null) first[0] = e;
                    failed = --left[0] == 0 ? first[0] : null;
                    if (left[0] != 0) return;
                }
                done.accept(failed);
            });
        }
    }

    CompletionStage<StatefulRedisPubSubConnection<String, String>> connectPubSub() {
        return pubsubClient.connectPubSubAsync(StringCodec.UTF8, uri);
    }

    /**
     * Runs a script by its digest on the calling loop's connection, loading it once per Redis (again after a
     * restart emptied its cache). {@code answer} (null: none) hears the reply or the failure, on the connection's
     * loop; a failure is also reported to the failure listener first.
     */
    void run(String script, ScriptOutputType type, byte[][] keys, byte[][] args, BiConsumer<Object, Throwable> answer) {
        run(script, type, keys, args, answer, false);
    }

    /**
     * As {@link #run}; {@code now}: written at once, not at the end of the loop's turn (a 429 pause must reach the
     * fleet before whatever else this turn still does; the scripts that batch well are the per-request ones).
     */
    void run(String script, ScriptOutputType type, byte[][] keys, byte[][] args, BiConsumer<Object, Throwable> answer,
             boolean now) {
        Link l = pick();
        if (l.loop != null && !l.loop.inEventLoop()) {
            // A connection with auto-flush off is used from its own loop only (its flush bookkeeping and deadlines
            // are the loop's): from any other thread, the script is handed to the link's own loop.
            l.loop.execute(() -> runOn(l, script, type, keys, args, answer, now));
            return;
        }
        runOn(l, script, type, keys, args, answer, now);
    }

    private void runOn(Link l, String script, ScriptOutputType type, byte[][] keys, byte[][] args,
                       BiConsumer<Object, Throwable> answer, boolean now) {
        StatefulRedisConnection<byte[], byte[]> c = l.conn;
        if (c == null) {
            fail(new IllegalStateException("redis is not connected"), answer);
            return;
        }
        String digest = sha.computeIfAbsent(script, FleetLinks::sha1);
        io.lettuce.core.RedisFuture<Object> f = c.async().evalsha(digest, type, keys, args);
        l.sent(f.toCompletableFuture(), now);
        f.whenComplete((v, e) -> {
            if (e == null) {
                if (answer != null) answer.accept(v, null);
            } else if (e instanceof RedisNoScriptException || String.valueOf(e.getMessage()).startsWith("NOSCRIPT")) {
                io.lettuce.core.RedisFuture<Object> f2 = c.async().eval(script, type, keys, args);
                l.sent(f2.toCompletableFuture(), true);
                f2.whenComplete((v2, e2) -> {
                    if (e2 != null) fail(e2, answer);
                    else if (answer != null) answer.accept(v2, null);
                });
            } else {
                fail(e, answer);
            }
        });
    }

    private void fail(Throwable e, BiConsumer<Object, Throwable> answer) {
        onFailure.accept(e);
        if (answer != null) answer.accept(null, e);
    }

    /**
     * The connection on the calling thread's loop, else (another thread, or that one reconnecting after Redis came
     * back) the first open one: one link still reconnecting must not mark Redis down again.
     */
    private Link pick() {
        Link any = null;
        for (Link l : links) {
            StatefulRedisConnection<byte[], byte[]> c = l.conn;
            if (c == null || !c.isOpen()) continue;
            if (l.loop == null || l.loop.inEventLoop()) return l;
            if (any == null) any = l;
        }
        if (any != null) return any;
        return links[0]; // none open: its command fails at once (commands are rejected while disconnected)
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String sha1(String script) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(bytes(script)));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Closes the connections and shuts Lettuce down in order (bounded waits: call it off the event loops). */
    @Override
    public void close() {
        try {
            for (Link l : links) {
                StatefulRedisConnection<byte[], byte[]> c = l.conn;
                if (c != null) c.close();
            }
        } finally {
            for (Link l : links) {
                try {
                    // Bounded: a loop the server already stopped would never answer.
                    l.client.shutdownAsync(0, 2, TimeUnit.SECONDS).get(3, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                    // Leaving anyway: the leases expire with their TTL.
                }
                l.client.getResources().shutdown(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(3000);
            }
            lettuceTasks.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(3000);
            timer.stop();
        }
    }

    private static final class Link {
        final EventLoop loop; // null: Lettuce's own thread
        final RedisClient client;
        volatile StatefulRedisConnection<byte[], byte[]> conn;
        private boolean flushPending; // on the loop only
        private final Runnable flush = this::flush;
        private final LoopDeadlines deadlines;

        Link(EventLoop loop, RedisClient client, long timeoutNanos) {
            this.loop = loop;
            this.client = client;
            this.deadlines = loop == null ? null : new LoopDeadlines(loop, timeoutNanos);
        }

        /** A command just written: flushed now or at the end of the turn, and timed by the loop. */
        void sent(java.util.concurrent.CompletableFuture<?> command, boolean now) {
            if (loop == null) return; // Lettuce's own thread: flushed as written, timed by Lettuce
            deadlines.add(command);
            if (!now) {
                flushSoon();
                return;
            }
            StatefulRedisConnection<byte[], byte[]> c = conn; // at once; a flush already asked for still runs
            if (c != null) c.flushCommands();
        }

        /**
         * On its loop, the only thread that uses it: one flush at the end of the loop's turn for every script asked
         * during it (one write, one syscall, however many requests the turn read).
         */
        void flushSoon() {
            if (!flushPending) {
                flushPending = true;
                loop.execute(flush);
            }
        }

        private void flush() {
            flushPending = false;
            StatefulRedisConnection<byte[], byte[]> c = conn;
            if (c != null) c.flushCommands();
        }
    }
}
