package io.modelegress.server.cluster;

import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import io.lettuce.core.resource.Transports;
import io.modelegress.core.config.ClusterSettings;
import io.modelegress.core.ratelimit.FleetBudget;
import io.modelegress.core.ratelimit.RateLimits;
import io.modelegress.server.metrics.EgressMetrics;
import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiConsumer;
import java.util.function.LongConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This replica's link to the fleet's Redis, for the whole process (config reloads keep it): one pipelined
 * connection for the scripts, one for pub/sub, a heartbeat that announces the replica and renews its leases, and
 * the up/down state. Nothing here blocks: each script connection lives on one of the sidecar's event loops
 * ({@link FleetLinks}), so a reservation is sent and answered on the request's own loop; the heartbeat runs on one.
 *
 * <p>Redis down is not an outage: a failed or slow answer ({@code cluster.redis.timeout}) marks the link down,
 * every request then paces on local limits at its share of the fleet (last known replica count), and the
 * heartbeat brings the link back as soon as Redis answers again. Each change is logged once.
 */
public final class RedisFleet implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RedisFleet.class);

    private final ClusterSettings settings;
    private final EgressMetrics metrics;
    private final String replicaId = UUID.randomUUID().toString().substring(0, 13);
    private final FleetLinks links;
    private final URI where;
    private final String channel;
    private final Duration heartbeat;
    private final Map<String, LongConsumer> pauseListeners = new ConcurrentHashMap<>();
    private final Map<String, LongConsumer> ejectListeners = new ConcurrentHashMap<>();
    /** Live leases by id: the lease set they are in, renewed by the heartbeat until finished. */
    private final Map<Long, String> leases = new ConcurrentHashMap<>();
    private final Map<Long, String> leaseMembers = new ConcurrentHashMap<>();
    private final AtomicLong nextLease = new AtomicLong(1);
    private final AtomicBoolean up = new AtomicBoolean(false);
    private final AtomicBoolean connecting = new AtomicBoolean(false);
    private final ScheduledFuture<?> beat;
    private volatile StatefulRedisPubSubConnection<String, String> pubsub;
    private volatile int replicas = 1;
    private volatile boolean closed;

    /** On Lettuce's own thread: for callers without event loops of a transport Lettuce can use. */
    public RedisFleet(ClusterSettings settings, EgressMetrics metrics, EventExecutor timer) {
        this(settings, metrics, null, timer);
    }

    /**
     * On the sidecar's event loops {@code loops} (one script connection each) when Lettuce's transport is theirs
     * ({@code loopChannel}: the socket channel class they take), else on Lettuce's own thread.
     */
    public RedisFleet(ClusterSettings settings, EgressMetrics metrics, EventLoopGroup loops, Class<? extends Channel> loopChannel) {
        this(settings, metrics, loopChannel == Transports.socketChannelClass() ? loops : null, loops.next());
    }

    private RedisFleet(ClusterSettings settings, EgressMetrics metrics, EventLoopGroup loops, EventExecutor timer) {
        this.settings = settings;
        this.metrics = metrics;
        this.channel = settings.keyPrefix() + "events";
        this.heartbeat = Duration.ofMillis(Math.min(1000, settings.leaseTtl().toMillis() / 3));
        this.where = settings.redisUrl();
        this.links = new FleetLinks(settings, loops, this::markDown);
        metrics.gauge("egress.cluster.redis.up", () -> up.get() ? 1 : 0);
        connect();
        this.beat = timer.scheduleAtFixedRate(this::beat, heartbeat.toMillis(), heartbeat.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** The fleet's budgets for one upstream; the limiter built on it replaces any earlier one (config reload). */
    public FleetBudget budget(String upstream, RateLimits limits) {
        return new RedisBudget(this, upstream, limits);
    }

    public boolean isUp() { return up.get(); }

    public int replicas() { return replicas; }

    public String replicaId() { return replicaId; }

    public ClusterSettings settings() { return settings; }

    String key(String upstream, String part) {
        // One hash tag per upstream: its keys stay in one slot of a Redis Cluster, as a script needs.
        return settings.keyPrefix() + "{" + upstream + "}:" + part;
    }

    void fallback(String upstream) {
        metrics.clusterFallback(upstream);
    }

    /** Runs a script on the calling loop's connection; {@code answer} (null: none) hears the reply or the failure. */
    void run(String script, ScriptOutputType type, byte[][] keys, byte[][] args, BiConsumer<Object, Throwable> answer) {
        run(script, type, keys, args, answer, false);
    }

    /** As {@link #run}; {@code now}: written at once rather than with the rest of the loop's turn (pauses, ejections). */
    void run(String script, ScriptOutputType type, byte[][] keys, byte[][] args, BiConsumer<Object, Throwable> answer,
             boolean now) {
        if (!up.get()) {
            if (answer != null) answer.accept(null, new IllegalStateException("redis is down"));
            return;
        }
        links.run(script, type, keys, args, answer, now);
    }

    /** Runs {@code task} once Redis answers again (the next heartbeat that succeeds): news the fleet must not miss. */
    void whenBackUp(Runnable task) {
        afterRecovery.add(task);
        if (up.get()) drainRecovery(); // it came back meanwhile
    }

    private final java.util.Queue<Runnable> afterRecovery = new java.util.concurrent.ConcurrentLinkedQueue<>();

    private void drainRecovery() {
        for (Runnable r; (r = afterRecovery.poll()) != null; ) r.run();
    }

    long newLease(String leaseKey) {
        long id = nextLease.getAndIncrement();
        leases.put(id, leaseKey);
        leaseMembers.put(id, replicaId + ":" + id);
        return id;
    }

    String leaseMember(long id) {
        String m = leaseMembers.get(id);
        return m == null ? "" : m;
    }

    void dropLease(long id) {
        leases.remove(id);
        leaseMembers.remove(id);
    }

    void onPause(String upstream, LongConsumer listener) { pauseListeners.put(upstream, listener); }

    public void onEject(String upstream, LongConsumer listener) { ejectListeners.put(upstream, listener); }

    String pauseMessageHead(String upstream) { return "pause " + replicaId + " " + upstream; }

    /** Publishes that this replica ejected {@code upstream} for {@code millis}: every replica skips it meanwhile. */
    public void publishEjection(String upstream, long millis) {
        run(FleetScripts.EJECT, ScriptOutputType.INTEGER, new byte[][] {FleetLinks.bytes(key(upstream, "ejected"))},
                args(Long.toString(Math.max(1, millis)), channel, "eject " + replicaId + " " + upstream + " " + millis), null, true);
    }

    String channel() { return channel; }

    static byte[][] args(String... values) {
        byte[][] out = new byte[values.length][];
        for (int i = 0; i < values.length; i++) out[i] = FleetLinks.bytes(values[i]);
        return out;
    }

    private void connect() {
        if (closed || !connecting.compareAndSet(false, true)) return;
        links.connect(e -> {
            if (e != null) {
                connecting.set(false);
                markDown(e);
                return;
            }
            if (pubsub != null) {
                connecting.set(false);
                beat();
                return;
            }
            links.connectPubSub().whenComplete((ps, e2) -> {
                connecting.set(false);
                if (e2 != null) {
                    markDown(e2);
                    return;
                }
                ps.addListener(new RedisPubSubAdapter<>() {
                    @Override
                    public void message(String ch, String message) {
                        onMessage(message);
                    }
                });
                ps.async().subscribe(channel);
                pubsub = ps;
                beat();
            });
        });
    }

    /** Announces this replica, renews its leases, learns the fleet's size; the way back up after a failure. */
    private void beat() {
        if (closed) return;
        if (!links.connected() || pubsub == null) {
            connect();
            return;
        }
        Map<String, List<String>> byKey = new java.util.HashMap<>();
        leases.forEach((id, k) -> byKey.computeIfAbsent(k, x -> new ArrayList<>()).add(leaseMember(id)));
        List<String> keys = new ArrayList<>();
        List<String> args = new ArrayList<>(List.of(replicaId, Long.toString(settings.leaseTtl().toMillis())));
        keys.add(settings.keyPrefix() + "replicas");
        byKey.forEach((k, members) -> {
            keys.add(k);
            args.add(Integer.toString(members.size()));
            args.addAll(members);
        });
        // Straight to the links: the heartbeat is how a link marked down comes back up.
        links.run(FleetScripts.HEARTBEAT, ScriptOutputType.INTEGER, args(keys.toArray(String[]::new)),
                args(args.toArray(String[]::new)), (n, e) -> {
                    if (e == null) {
                        replicas = (int) Math.max(1, (Long) n);
                        markUp();
                    }
                });
    }

    private void onMessage(String message) {
        // "pause|eject <replica> <upstream> <length>": the replica that saw it has applied it already.
        String[] f = message.split(" ");
        if (f.length < 4 || f[1].equals(replicaId)) return;
        String upstream = String.join(" ", java.util.Arrays.copyOfRange(f, 2, f.length - 1));
        long length;
        try {
            length = Long.parseLong(f[f.length - 1]);
        } catch (NumberFormatException e) {
            return;
        }
        if (f[0].equals("pause")) {
            LongConsumer l = pauseListeners.get(upstream);
            if (l != null) l.accept(TimeUnit.MICROSECONDS.toNanos(length));
        } else if (f[0].equals("eject")) {
            LongConsumer l = ejectListeners.get(upstream);
            if (l != null) l.accept(TimeUnit.MILLISECONDS.toNanos(length));
        }
    }

    private void markUp() {
        if (up.compareAndSet(false, true)) {
            LOG.info("cluster: redis {} answers: limits with scope shared are the fleet's again ({} replicas)",
                    where(), replicas);
        }
        if (!afterRecovery.isEmpty()) drainRecovery();
    }

    private void markDown(Throwable e) {
        if (closed) return;
        if (up.compareAndSet(true, false) || !everLogged.getAndSet(true)) {
            LOG.warn("cluster: redis {} does not answer ({}): limits with scope shared fall back to this replica's"
                    + " share ({} replicas last seen) until it does; check cluster.redis.url and that Redis is up",
                    where(), reason(e), replicas);
            LOG.debug("cluster: redis failure", e);
        }
    }

    private final AtomicBoolean everLogged = new AtomicBoolean();

    private String where() {
        return where.getHost() + ":" + where.getPort();
    }

    private static String reason(Throwable e) {
        Throwable t = e instanceof java.util.concurrent.CompletionException && e.getCause() != null ? e.getCause() : e;
        String m = t.getMessage();
        // Lettuce messages name the host, never the password; keep it to one short line all the same.
        return t.getClass().getSimpleName() + (m == null ? "" : ": " + (m.length() > 120 ? m.substring(0, 120) : m));
    }

    /**
     * Leaves the fleet: stops the heartbeat and closes the connections (its leases expire with their TTL). Called
     * by the server's stop, off the event loops: it waits (bounded) for Lettuce to shut down in order.
     */
    @Override
    public void close() {
        closed = true;
        beat.cancel(false);
        up.set(false);
        try {
            StatefulRedisPubSubConnection<String, String> ps = pubsub;
            if (ps != null) ps.close();
        } finally {
            links.close();
        }
    }
}
