package io.modelegress.core.config;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * The effective config as plain maps for {@code /config}: every setting, secrets redacted (credentials show only
 * where they come from; proxy URLs are passed through {@code maskProxy}).
 */
public final class ConfigView {
    private ConfigView() {}

    public static Map<String, Object> of(EgressConfig c, UnaryOperator<String> maskProxy) {
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("source", c.source());
        ServerSettings s = c.server();
        root.put("server", map("listen", s.listen().toString(), "admin", s.admin().toString(),
                "max_request_body", s.maxRequestBody(), "max_header_size", s.maxHeaderSize(),
                "idle_timeout", str(s.idleTimeout()), "request_read_timeout", str(s.requestReadTimeout()),
                "shutdown_delay", str(s.shutdownDelay()), "drain_timeout", str(s.drainTimeout()),
                "max_buffered_bytes", s.maxBufferedBytes() == 0 ? "auto" : s.maxBufferedBytes(),
                "max_uncommitted_bytes", s.maxUncommittedBytes(),
                "responses_affinity", map("max_entries", s.responsesAffinity().maxEntries(), "ttl", str(s.responsesAffinity().ttl())),

                "buffer_request_body_up_to", s.uploads().bufferRequestBodyUpTo(),
                "max_streamed_request_body", s.uploads().maxStreamedRequestBody()));
        ProxySettings p = c.proxy();
        ProxyCredentials pa = c.proxyAuth();
        root.put("proxy", map("use_environment", p.useEnvironment(), "https", masked(p.httpsProxies(), maskProxy),
                "http", masked(p.httpProxies(), maskProxy), "no_proxy", p.noProxy(),
                "auth", pa.present() ? map("username", pa.username(), "password", "<redacted>", "scheme", pa.scheme(), "domain", pa.domain())
                        : pa.configured() ? map("scheme", pa.scheme(), "principal", pa.principal(), "keytab", pa.keytab(), "spn", pa.spn()) : null,
                "pac", p.pac() == null ? null : maskProxy.apply(p.pac()), "pac_refresh", str(p.pacRefresh()),
                "pac_timeout", str(p.pacTimeout()), "eject_for", str(p.ejectFor())));
        root.put("tls", map("ca_bundle", c.tls().caBundle() == null ? null : c.tls().caBundle().toString()));
        root.put("dns", map("servers", c.dns().servers().stream().map(HostPort::toString).toList(), "hosts", c.dns().hosts()));
        root.put("timeouts", timeouts(c.timeouts()));
        root.put("retry", retry(c.retry()));
        Map<String, Object> ups = new LinkedHashMap<>();
        for (UpstreamSettings u : c.upstreams().values()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("url", u.url().toString());
            m.put("proxy", "inherit".equals(u.proxy()) || "direct".equals(u.proxy()) ? u.proxy() : mask(u.proxy(), maskProxy));
            m.put("auth", u.auth() == null ? null : map("header", u.auth().header(), "source", u.auth().value().describe(),
                    "present", u.auth().value().current().present()));
            LimitSettings l = u.limits();
            m.put("limits", map("max_concurrent", l.maxConcurrent(), "requests_per_minute", l.requestsPerMinute(),
                    "tokens_per_minute", l.tokensPerMinute(), "max_queue", l.maxQueue(), "max_queue_wait", str(l.maxQueueWait())));
            m.put("breaker", map("consecutive_failures", u.breaker().consecutiveFailures(), "cooldown", str(u.breaker().cooldown())));
            m.put("pool", map("max_idle", u.pool().maxIdle(), "idle_timeout", str(u.pool().idleTimeout()),
                    "max_lifetime", str(u.pool().maxLifetime())));
            m.put("probe", u.probePath());
            ups.put(u.name(), m);
        }
        root.put("upstreams", ups);
        List<Object> routes = new ArrayList<>();
        for (RouteSettings r : c.routes()) {
            List<Object> targets = new ArrayList<>();
            for (RouteTarget t : r.upstreams()) targets.add(t.model() == null ? t.upstream() : map("upstream", t.upstream(), "model", t.model()));
            Map<String, Object> m = map("name", r.name(), "prefix", r.prefix(), "strip_prefix", r.stripPrefix(),
                    "models", r.models(), "upstreams", targets, "fallback_on", r.fallbackOn(),
                    "dialect", r.dialect().name().toLowerCase(java.util.Locale.ROOT));
            Map<String, Object> effective = new LinkedHashMap<>();
            for (RouteTarget t : r.upstreams()) effective.put(t.upstream(), timeouts(c.timeoutsFor(r, c.upstream(t.upstream()))));
            m.put("effective_timeouts", effective);
            m.put("retry", retry(r.retry()));
            routes.add(m);
        }
        root.put("routes", routes);
        return root;
    }

    private static Map<String, Object> timeouts(Timeouts t) {
        return map("dns", str(t.dns()), "connect", str(t.connect()), "proxy_connect", str(t.proxyConnect()),
                "tls_handshake", str(t.tlsHandshake()), "response_headers", str(t.responseHeaders()),
                "first_token", str(t.firstToken()), "stream_idle", str(t.streamIdle()), "request", str(t.request()));
    }

    private static Map<String, Object> retry(RetrySettings r) {
        return map("max_attempts", r.maxAttempts(), "retry_on", r.retryOn(), "retry_on_timeout", r.retryOnTimeout(),
                "backoff", map("base", str(r.backoffBase()), "max", str(r.backoffMax())),
                "max_retry_after", str(r.maxRetryAfter()),
                "budget", map("ratio", r.budgetRatio(), "min_per_second", r.budgetMinPerSecond()));
    }

    private static String mask(String proxyUrl, UnaryOperator<String> maskProxy) {
        return proxyUrl == null ? null : maskProxy.apply(proxyUrl);
    }

    private static String str(java.time.Duration d) { return io.modelegress.core.time.Durations.format(d); }

    private static Map<String, Object> map(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) m.put((String) kv[i], kv[i + 1]);
        return m;
    }

    /** One proxy stays a string (as before failover lists); a list stays a list. */
    private static Object masked(List<String> urls, UnaryOperator<String> maskProxy) {
        if (urls.isEmpty()) return null;
        if (urls.size() == 1) return maskProxy.apply(urls.get(0));
        return urls.stream().map(maskProxy).toList();
    }
}
