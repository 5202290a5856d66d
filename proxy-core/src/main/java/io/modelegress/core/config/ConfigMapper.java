package io.modelegress.core.config;

import static io.modelegress.core.config.ClusterMapper.cluster;
import static io.modelegress.core.config.ProxyMapper.proxy;
import static io.modelegress.core.config.ProxyMapper.proxyAuth;
import static io.modelegress.core.config.ServerMapper.server;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigValue;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import io.modelegress.core.proxy.IpLiterals;
import io.modelegress.core.retry.RetryPolicy;

/**
 * Maps the merged config into records, checking what types alone cannot (URLs, references, duplicates). It keeps the
 * walk over the blocks and the helpers they share; each large block has its own mapper ({@link ServerMapper},
 * {@link ProxyMapper}, {@link UpstreamMapper}, {@link RouteMapper}, {@link ClusterMapper}).
 */
final class ConfigMapper {
    private static final Set<String> RETRY_ON_WORDS = Set.of("connect_failure", "reset", "timeout", "5xx", "4xx");

    private final Section root;
    private final Function<String, String> env;
    private final Config reference;

    ConfigMapper(Section root, Function<String, String> env, Config reference) {
        this.root = root;
        this.env = env;
        this.reference = reference;
    }

    EgressConfig map(String source) {
        ServerSettings server = server(root.sub("server"));
        ProxySettings proxy = proxy(root.sub("proxy"));
        Section tls = root.sub("tls");
        String ca = tls.string("ca_bundle");
        if (ca != null && !Files.isReadable(Path.of(ca))) tls.problem("ca_bundle", "\"" + ca + "\" is not a readable file (expected: a PEM file of CA certificates)");
        DnsSettings dns = dns(root.sub("dns"));
        Timeouts timeouts = timeouts(root.sub("timeouts"));
        RetrySettings retry = retry(root.sub("retry"));
        Map<String, UpstreamSettings> upstreams = upstreams();
        List<RouteSettings> routes = routes(upstreams, root.config.getConfig("retry"));
        ClusterSettings cluster = cluster(root.sub("cluster"), upstreams);
        return new EgressConfig(source, server, proxy, proxyAuth(root.sub("proxy").sub("auth")), new TlsSettings(ca == null ? null : Path.of(ca)), dns,
                timeouts, retry, upstreams, routes, cluster);
    }

    private Map<String, UpstreamSettings> upstreams() { return UpstreamMapper.upstreams(root, reference, env); }

    private List<RouteSettings> routes(Map<String, UpstreamSettings> upstreams, Config globalRetry) {
        return RouteMapper.routes(root, reference, upstreams, globalRetry);
    }

    /** A credential goes on the wire: no control characters (the value itself is never shown). */
    static void controlFree(Section s, String k, String value, String what) {
        String why = HeaderText.problem(value);
        if (why != null) s.problem(k, what + " contains a control character (" + why + "; expected: one line of printable text)");
    }

    private static DnsSettings dns(Section s) {
        List<HostPort> servers = new ArrayList<>();
        for (String v : s.strings("servers")) {
            HostPort hp = HostPort.parse(v.contains(":") && !v.startsWith("[") && v.indexOf(':') != v.lastIndexOf(':')
                    ? "[" + v + "]:53" : v.contains(":") ? v : v + ":53");
            if (hp == null) s.problem("servers", "\"" + v + "\" (expected: ip or ip:port)");
            else servers.add(hp);
        }
        Map<String, String> hosts = new LinkedHashMap<>();
        if (s.has("hosts")) {
            for (Map.Entry<String, ConfigValue> e : s.config.getObject("hosts").entrySet()) {
                Object v = e.getValue().unwrapped();
                if (!(v instanceof String) || !IpLiterals.isLiteral((String) v)) {
                    s.problem("hosts", "\"" + e.getKey() + "\" -> \"" + v + "\" (expected: a name mapped to an IP address)");
                } else {
                    hosts.put(e.getKey().toLowerCase(Locale.ROOT), (String) v);
                }
            }
        }
        return new DnsSettings(servers, hosts);
    }

    private static Timeouts timeouts(Section s) {
        return McpConfig.timeouts(s, new Timeouts(s.duration("dns"), s.duration("connect"), s.duration("proxy_connect"),
                s.duration("tls_handshake"), s.duration("response_headers"), s.duration("first_token"),
                s.duration("stream_idle"), s.duration("request"), WebSocketLimits.idle(s), null, null));
    }

    static Timeouts.Overrides overrides(Section s) {
        return McpConfig.overrides(s, new Timeouts.Overrides(s.durationOrNull("dns"), s.durationOrNull("connect"),
                s.durationOrNull("proxy_connect"), s.durationOrNull("tls_handshake"),
                s.durationOrNull("response_headers"), s.durationOrNull("first_token"),
                s.durationOrNull("stream_idle"), s.durationOrNull("request"), WebSocketLimits.idleOrNull(s), null, null));
    }

    static RetrySettings retry(Section s) {
        List<String> retryOn = s.strings("retry_on");
        checkWords(s, "retry_on", retryOn, RETRY_ON_WORDS);
        RetrySettings r = new RetrySettings((int) s.integer("max_attempts", 1), retryOn, s.bool("retry_on_timeout"),
                s.duration("backoff.base"), s.duration("backoff.max"), s.duration("max_retry_after"),
                s.number("budget.ratio", 0), (int) s.integer("budget.min_per_second", 0),
                (int) s.integer("attempts_per_upstream", 1), s.duration("max_same_upstream_wait"));
        try {
            RetryPolicy.from(r, List.of());
        } catch (IllegalArgumentException e) {
            String msg = e.getMessage();
            int colon = msg.indexOf(": ");
            String key = colon > 0 ? msg.substring(0, colon).replaceFirst("^retry\\.", "") : "retry_on";
            s.problem(s.has(key) ? key : "retry_on", colon > 0 ? msg.substring(colon + 2) : msg);
        }
        return r;
    }

    static void checkWords(Section s, String k, List<String> values, Set<String> words) {
        for (String v : values) {
            if (words.contains(v) || v.matches("[1-5]\\d\\d")) continue;
            String hint = DidYouMean.closest(v, words);
            s.problem(k, "\"" + v + "\"" + (hint != null ? " (did you mean \"" + hint + "\"?)" : "")
                    + " (expected: one of " + new TreeSet<>(words) + " or an HTTP status like 503)");
        }
    }

    static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s;
    }
}
