package io.modelegress.core.config;

import static io.modelegress.core.config.ConfigMapper.blankToNull;
import static io.modelegress.core.config.ConfigMapper.controlFree;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;

/** Maps the {@code cluster} block: the Redis the fleet shares, and what needs it (shared limits, shared ejections). */
final class ClusterMapper {
    private ClusterMapper() {}

    static ClusterSettings cluster(Section c, Map<String, UpstreamSettings> upstreams) {
        Section r = c.sub("redis");
        String url = blankToNull(r.string("url"));
        String prefix = r.string("key_prefix");
        if (prefix == null) prefix = "";
        java.time.Duration timeout = r.duration("timeout");
        if (timeout.isZero()) r.problem("timeout", "0 (expected: a duration > 0, like 50ms)");
        boolean shareEjections = c.bool("share_ejections");
        java.time.Duration leaseTtl = c.duration("lease_ttl");
        if (leaseTtl.compareTo(java.time.Duration.ofSeconds(1)) < 0) c.problem("lease_ttl", leaseTtl + " (expected: at least 1s, like 10s)");
        if (url == null) {
            for (UpstreamSettings u : upstreams.values()) {
                if (u.limits().shared()) {
                    c.problems().add(new InvalidConfigException.Problem("upstreams." + u.name() + ".limits.scope",
                            ConfigLoader.location(c.origin("redis")),
                            "shared, but cluster.redis.url is not set (expected: cluster.redis.url, like redis://redis:6379, or scope: local)"));
                }
            }
            if (shareEjections) c.problem("share_ejections", "true, but cluster.redis.url is not set (expected: cluster.redis.url)");
            return new ClusterSettings(null, null, prefix, timeout, false, leaseTtl);
        }
        URI uri = null;
        try {
            uri = new URI(url);
            String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
            if (!scheme.equals("redis") && !scheme.equals("rediss") || uri.getHost() == null || uri.getRawUserInfo() != null) {
                // The URL is not echoed: an operator may have put a password in it.
                r.problem("url", "not a redis:// or rediss:// URL with a host and no user info (expected: like redis://redis:6379;"
                        + " the password goes in cluster.redis.password_file)");
                uri = null;
            }
        } catch (URISyntaxException e) {
            r.problem("url", "not a URL (" + e.getReason() + "; expected: like redis://redis:6379)");
        }
        String password = null;
        String file = blankToNull(r.string("password_file"));
        if (file != null) {
            try {
                password = Files.readString(Path.of(file)).strip();
                controlFree(r, "password_file", password, "the file " + file);
            } catch (java.io.IOException e) {
                r.problem("password_file", "\"" + file + "\" cannot be read (expected: a readable file holding the Redis password)");
            }
        }
        return new ClusterSettings(uri, password, prefix, timeout, shareEjections, leaseTtl);
    }
}
