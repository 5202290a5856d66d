package io.modelegress.core.config;

import java.net.URI;
import java.time.Duration;

/**
 * The {@code cluster} block: where replicas share their limits. No Redis URL means no cluster: every
 * {@code limits.scope: shared} upstream then paces locally, as {@code local} does (the loader refuses that mix).
 *
 * @param redisUrl {@code redis://host:port[/db]} or {@code rediss://…} (TLS), or null
 * @param password the Redis password read from {@code password_file}, or null; never logged
 * @param keyPrefix prefix of every key the sidecar writes, so fleets can share one Redis
 * @param timeout longest wait for one Redis answer before the request falls back to local limits
 * @param shareEjections whether an upstream ejected by one replica's breaker is skipped by all
 * @param leaseTtl how long a replica's fleet-wide concurrency slots and its presence outlive its last heartbeat
 */
public record ClusterSettings(URI redisUrl, String password, String keyPrefix, Duration timeout, boolean shareEjections,
                              Duration leaseTtl) {
    public static final ClusterSettings NONE =
            new ClusterSettings(null, null, "egress:", Duration.ofMillis(50), false, Duration.ofSeconds(10));

    public boolean enabled() { return redisUrl != null; }

    @Override
    public String toString() {
        // The password stays out of every log line and error message.
        return "ClusterSettings[redisUrl=" + redisUrl + ", password=" + (password == null ? "none" : "***")
                + ", keyPrefix=" + keyPrefix + ", timeout=" + timeout + ", shareEjections=" + shareEjections + ", leaseTtl=" + leaseTtl + "]";
    }
}
