package io.modelegress.server.cluster;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.Delay;
import io.modelegress.core.config.ClusterSettings;
import io.modelegress.core.ratelimit.FleetBudget;
import io.modelegress.core.ratelimit.RateLimits;
import io.modelegress.server.metrics.EgressMetrics;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This replica's link to the fleet's Redis, for the whole process (config reloads keep it): one pipelined
 * connection for the scripts, one for pub/sub, a heartbeat that announces the replica and renews its leases, and
 * the up/down state. Nothing here blocks: Lettuce answers on its own event loop, the heartbeat runs on one of ours.
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
    private final ClientResources resources;
    private final RedisClient client;
    private final RedisURI uri;
    private final String channel;
    private final Duration heartbeat;
    private final Map<String, String> sha = new ConcurrentHashMap<>();
    private final Map<String, LongConsumer> pauseListeners = new ConcurrentHashMap<>();
    private final Map<String, LongConsumer> ejectListeners = new ConcurrentHashMap<>();
    /** Live leases by id: the lease set they are in, renewed by the heartbeat until finished. */
    private final Map<Long, String> leases = new ConcurrentHashMap<>();
    private final Map<Long, String> leaseMembers = new ConcurrentHashMap<>();
    private final AtomicLong nextLease = new AtomicLong(1);
    private final AtomicBoolean up = new AtomicBoolean(false);
    private final AtomicBoolean connecting = new AtomicBoolean(false);
    private final ScheduledFuture<?> beat;
    private volatile StatefulRedisConnection<String, String> conn;
    private volatile StatefulRedisPubSubConnection<String, String> pubsub;
    private volatile int replicas = 1;
    private volatile boolean closed;

    public RedisFleet(ClusterSettings settings, EgressMetrics metrics, EventExecutor timer) {
        this.settings = settings;
        this.metrics = metrics;
        this.channel = settings.keyPrefix() + "events";
        this.heartbeat = Duration.ofMillis(Math.min(1000, settings.leaseTtl().toMillis() / 3));
        this.uri = RedisURI.create(settings.redisUrl());
        if (settings.password() != null) uri.setAuthentication(settings.password().toCharArray());
        // The handshake (HELLO, AUTH) of a fresh connection may take longer than one command: it has its own bound.
        uri.setTimeout(settings.timeout().compareTo(Duration.ofSeconds(2)) > 0 ? settings.timeout() : Duration.ofSeconds(2));
        this.resources = ClientResources.builder().ioThreadPoolSize(1).computationThreadPoolSize(1)
                .reconnectDelay(Delay.constant(Duration.ofMillis(250))).build();
        this.client = RedisClient.create(resources);
        client.setOptions(ClientOptions.builder()
                .autoReconnect(true)
                // Fail at once while disconnected: a queued command would only answer after the timeout.
                .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                .timeoutOptions(TimeoutOptions.enabled(settings.timeout()))
                .socketOptions(SocketOptions.builder().connectTimeout(Duration.ofSeconds(1)).build())
                .build());
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

    /** Runs a script by its digest, loading it once per Redis (again after a restart emptied its cache). */
    CompletionStage<Object> run(String script, ScriptOutputType type, String[] keys, String... args) {
        StatefulRedisConnection<String, String> c = conn;
        if (c == null || !up.get()) return CompletableFuture.failedFuture(new IllegalStateException("redis is down"));
        String digest = sha.computeIfAbsent(script, RedisFleet::sha1);
        CompletableFuture<Object> out = new CompletableFuture<>();
        c.async().<Object>evalsha(digest, type, keys, args).whenComplete((v, e) -> {
            if (e == null) {
                out.complete(v);
            } else if (e instanceof RedisNoScriptException || String.valueOf(e.getMessage()).startsWith("NOSCRIPT")) {
                c.async().<Object>eval(script, type, keys, args).whenComplete((v2, e2) -> {
                    if (e2 == null) out.complete(v2);
                    else out.completeExceptionally(e2);
                });
            } else {
                out.completeExceptionally(e);
            }
        });
        return out.whenComplete((v, e) -> {
            if (e != null) markDown(e);
        });
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
        run(FleetScripts.EJECT, ScriptOutputType.INTEGER, new String[] {key(upstream, "ejected")},
                Long.toString(Math.max(1, millis)), channel, "eject " + replicaId + " " + upstream + " " + millis);
    }

    String channel() { return channel; }

    private void connect() {
        if (closed || !connecting.compareAndSet(false, true)) return;
        client.connectAsync(StringCodec.UTF8, uri).whenComplete((c, e) -> {
            if (e != null) {
                connecting.set(false);
                markDown(e);
                return;
            }
            conn = c;
            client.connectPubSubAsync(StringCodec.UTF8, uri).whenComplete((ps, e2) -> {
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
        StatefulRedisConnection<String, String> c = conn;
        if (c == null || pubsub == null) {
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
        String digest = sha.computeIfAbsent(FleetScripts.HEARTBEAT, RedisFleet::sha1);
        String[] k = keys.toArray(String[]::new);
        String[] a = args.toArray(String[]::new);
        c.async().<Long>evalsha(digest, ScriptOutputType.INTEGER, k, a).exceptionallyCompose(e ->
                e instanceof RedisNoScriptException || String.valueOf(e.getMessage()).startsWith("NOSCRIPT")
                        ? c.async().<Long>eval(FleetScripts.HEARTBEAT, ScriptOutputType.INTEGER, k, a)
                        : CompletableFuture.failedFuture(e))
                .whenComplete((n, e) -> {
                    if (e != null) {
                        markDown(e);
                    } else {
                        replicas = (int) Math.max(1, n);
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
        return uri.getHost() + ":" + uri.getPort();
    }

    private static String reason(Throwable e) {
        Throwable t = e instanceof java.util.concurrent.CompletionException && e.getCause() != null ? e.getCause() : e;
        String m = t.getMessage();
        // Lettuce messages name the host, never the password; keep it to one short line all the same.
        return t.getClass().getSimpleName() + (m == null ? "" : ": " + (m.length() > 120 ? m.substring(0, 120) : m));
    }

    private static String sha1(String script) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(script.getBytes(StandardCharsets.UTF_8)));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
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
            StatefulRedisConnection<String, String> c = conn;
            if (c != null) c.close();
        } finally {
            client.shutdown(0, 2, TimeUnit.SECONDS);
            resources.shutdown(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(3000);
        }
    }
}
