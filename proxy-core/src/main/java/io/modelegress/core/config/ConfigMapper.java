package io.modelegress.core.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import io.modelegress.core.proxy.IpLiterals;
import io.modelegress.core.proxy.ProxyResolver;
import io.modelegress.core.proxy.UpstreamProxy;
import io.modelegress.core.retry.RetryPolicy;
import io.modelegress.core.route.AgentHeaders;
import io.modelegress.core.route.PathNormalizer;

/** Maps the merged config into records, checking what types alone cannot (URLs, references, duplicates). */
final class ConfigMapper {
    private static final Set<String> RETRY_ON_WORDS = Set.of("connect_failure", "reset", "timeout", "5xx", "4xx");
    private static final Set<String> FALLBACK_ON_WORDS = Set.of("connect_failure", "reset", "timeout", "5xx", "4xx",
            "context_length_exceeded");

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

    private ServerSettings server(Section s) {
        long maxHeader = s.bytes("max_header_size");
        if (maxHeader < 1024 || maxHeader > 1 << 20) s.problem("max_header_size", maxHeader + " bytes (expected: 1KiB to 1MiB)");
        long maxBody = s.bytes("max_request_body");
        if (maxBody < 0 || maxBody > Integer.MAX_VALUE) s.problem("max_request_body", maxBody + " bytes (expected: 0 to 2GiB)");
        long maxBuffered = "auto".equals(s.string("max_buffered_bytes")) ? 0 : s.bytes("max_buffered_bytes");
        if (maxBuffered < 0) s.problem("max_buffered_bytes", maxBuffered + " bytes (expected: auto or a size like 256MiB)");
        long maxUncommitted = s.bytes("max_uncommitted_bytes");
        if (maxUncommitted < 64 * 1024 || maxUncommitted > Integer.MAX_VALUE) {
            s.problem("max_uncommitted_bytes", maxUncommitted + " bytes (expected: 64KiB to 2GiB)");
        }
        return new ServerSettings(hostPort(s, "listen"), hostPort(s, "admin"), maxBody, (int) maxHeader,
                s.duration("idle_timeout"), s.duration("request_read_timeout"), s.duration("shutdown_delay"),
                s.duration("drain_timeout"), connectionCap(s, "max_connections"), connectionCap(s, "admin_max_connections"),
                maxBuffered, maxUncommitted);
    }

    private static int connectionCap(Section s, String k) {
        long v = s.integer(k, 0);
        if (v > Integer.MAX_VALUE) s.problem(k, v + " (expected: 0 for no cap, or at most " + Integer.MAX_VALUE + ")");
        return (int) Math.min(v, Integer.MAX_VALUE);
    }

    private static HostPort hostPort(Section s, String k) {
        String v = s.string(k);
        HostPort hp = HostPort.parse(v);
        if (hp == null) {
            s.problem(k, "\"" + v + "\" (expected: host:port, like 127.0.0.1:8080 or [::1]:8080)");
            return new HostPort("127.0.0.1", 0);
        }
        return hp;
    }

    private static ProxySettings proxy(Section s) {
        String pac = blankToNull(s.string("pac"));
        ProxySettings p = new ProxySettings(s.bool("use_environment"), nonBlank(s.strings("https")),
                nonBlank(s.strings("http")), s.strings("no_proxy"), pac, s.duration("pac_refresh"), s.duration("pac_timeout"),
                s.duration("eject_for"));
        try {
            // Validates the explicit settings only; the environment is read (best effort) at start-up.
            new ProxyResolver(new ProxySettings(false, p.httpsProxies(), p.httpProxies(), p.noProxy(), pac,
                    p.pacRefresh(), p.pacTimeout(), p.ejectFor()), Map.of());
        } catch (IllegalArgumentException e) {
            String msg = e.getMessage();
            String key = msg.startsWith("proxy.https") ? "https" : msg.startsWith("proxy.http") ? "http"
                    : msg.startsWith("proxy.pac") ? "pac" : "no_proxy";
            String head = msg.indexOf(':') > 0 ? msg.substring(0, msg.indexOf(':')) : "";
            String entry = head.matches("proxy\\.https?\\[\\d+\\]") ? "entry " + head.substring(head.indexOf('[')) + ": " : "";
            s.problem(key, msg.startsWith("proxy." + key) ? entry + msg.substring(msg.indexOf(':') + 1).trim() : msg);
        }
        if (pac != null && (p.https() != null || p.http() != null)) {
            s.problem("pac", "set together with proxy." + (p.https() != null ? "https" : "http")
                    + " (expected: either a PAC file or explicit proxies, not both)");
        }
        if (s.has("pac_refresh") && p.pacRefresh().compareTo(java.time.Duration.ofSeconds(1)) < 0) {
            s.problem("pac_refresh", p.pacRefresh() + " (expected: at least 1s)");
        }
        if (p.pacTimeout().isZero()) s.problem("pac_timeout", "0 (expected: a duration > 0, like 1s)");
        return p;
    }

    private static List<String> nonBlank(List<String> values) {
        List<String> out = new ArrayList<>();
        for (String v : values) if (v != null && !v.isBlank()) out.add(v);
        return out;
    }

    private static final Set<String> PROXY_AUTH_SCHEMES = Set.of("basic", "ntlm", "negotiate", "auto");

    private static ProxyCredentials proxyAuth(Section s) {
        String user = s.string("username");
        String password = s.string("password");
        String file = s.string("password_file");
        String scheme = s.string("scheme") == null ? "basic" : s.string("scheme").strip().toLowerCase(Locale.ROOT);
        String domain = blankToNull(s.string("domain"));
        String principal = blankToNull(s.string("principal"));
        String keytab = blankToNull(s.string("keytab"));
        String spn = blankToNull(s.string("spn"));
        if (!PROXY_AUTH_SCHEMES.contains(scheme)) {
            s.problem("scheme", "\"" + scheme + "\" (expected: basic, ntlm, negotiate or auto)");
            scheme = "basic";
        }
        if (keytab != null && !Files.isReadable(Path.of(keytab))) {
            s.problem("keytab", "\"" + keytab + "\" is not a readable file (expected: a Kerberos keytab holding " + (principal == null ? "the principal" : principal) + ")");
        }
        if (keytab != null && principal == null) s.problem("principal", "missing (expected: the principal to log in as from proxy.auth.keytab)");
        if (scheme.equals("ntlm") && user == null) s.problem("username", "missing (expected: a user name for scheme ntlm)");
        if (user == null) {
            if (password != null || file != null) s.problem("username", "missing (expected: a user name when a password is set)");
            return new ProxyCredentials(null, null, scheme, domain, principal, keytab, spn);
        }
        if (password != null && file != null) {
            s.problem("password_file", "set together with password (expected: one of password or password_file)");
        }
        if (file != null) {
            try {
                password = Files.readString(Path.of(file)).strip();
            } catch (java.io.IOException e) {
                s.problem("password_file", "\"" + file + "\" cannot be read (expected: a readable file holding the password)");
            }
        }
        controlFree(s, "username", user, "the user name");
        controlFree(s, file != null ? "password_file" : "password", password, file != null ? "the file " + file : "the password");
        return new ProxyCredentials(user, password == null ? "" : password, scheme, domain, principal, keytab, spn);
    }

    /** A credential goes on the wire: no control characters (the value itself is never shown). */
    private static void controlFree(Section s, String k, String value, String what) {
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
                s.duration("stream_idle"), s.duration("request")));
    }

    private static Timeouts.Overrides overrides(Section s) {
        return McpConfig.overrides(s, new Timeouts.Overrides(s.durationOrNull("dns"), s.durationOrNull("connect"),
                s.durationOrNull("proxy_connect"), s.durationOrNull("tls_handshake"),
                s.durationOrNull("response_headers"), s.durationOrNull("first_token"),
                s.durationOrNull("stream_idle"), s.durationOrNull("request")));
    }

    private static RetrySettings retry(Section s) {
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

    private static void checkWords(Section s, String k, List<String> values, Set<String> words) {
        for (String v : values) {
            if (words.contains(v) || v.matches("[1-5]\\d\\d")) continue;
            String hint = DidYouMean.closest(v, words);
            s.problem(k, "\"" + v + "\"" + (hint != null ? " (did you mean \"" + hint + "\"?)" : "")
                    + " (expected: one of " + new TreeSet<>(words) + " or an HTTP status like 503)");
        }
    }

    private Map<String, UpstreamSettings> upstreams() {
        Map<String, UpstreamSettings> out = new LinkedHashMap<>();
        ConfigObject obj = root.config.getObject("upstreams");
        Config template = reference.getConfig("upstream_defaults");
        for (Map.Entry<String, Config> e : ConfigLoader.entries(obj, template).entrySet()) {
            String name = e.getKey();
            if (e.getValue() == null) continue; // not a mapping: reported by ConfigSchema
            Section s = new Section(e.getValue(), "upstreams." + name + ".", problemsOf());
            out.put(name, upstream(name, s, obj.get(name)));
        }
        return out;
    }

    private List<InvalidConfigException.Problem> problemsOf() {
        return root.problems();
    }

    private UpstreamSettings upstream(String name, Section s, ConfigValue raw) {
        URI url = url(s, "url");
        String proxy = s.string("proxy");
        if (proxy == null || proxy.isBlank()) proxy = "inherit";
        try {
            UpstreamProxy.parse(name, proxy);
        } catch (IllegalArgumentException e) {
            s.problem("proxy", e.getMessage().replaceFirst("^upstreams\\.[^:]*\\.proxy: ", ""));
        }
        AuthSettings auth = null;
        if (s.has("auth")) {
            Section a = s.sub("auth");
            String header = a.string("header");
            String value = a.string("value");
            String file = a.string("value_file");
            if (header == null || header.isBlank() || !header.matches("[!#$%&'*+.^_`|~0-9A-Za-z-]+")) {
                a.problem("header", "\"" + HeaderText.printable(header) + "\" (expected: an HTTP header name, like Authorization)");
            }
            if ((value == null) == (file == null)) {
                a.problem(value == null ? "value" : "value_file", "expected exactly one of value or value_file");
            } else {
                SecretSource secret = file != null ? SecretSource.ofFile(Path.of(file)) : SecretSource.ofTemplate(value, env);
                // Checked here at load and reload; a file that turns bad later is refused per request (credential_invalid).
                if (secret.current().invalid()) a.problem(file != null ? "value_file" : "value", secret.current().missingReason());
                auth = new AuthSettings(header, secret);
            }
        }
        Section l = s.sub("limits");
        LimitSettings limits = new LimitSettings((int) l.integer("max_concurrent", 0),
                (int) l.integer("requests_per_minute", 0), l.integer("tokens_per_minute", 0),
                (int) l.integer("max_queue", 0), l.duration("max_queue_wait"), scope(l));
        Section b = s.sub("breaker");
        BreakerSettings breaker = new BreakerSettings((int) b.integer("consecutive_failures", 0), b.duration("cooldown"),
                b.duration("max_cooldown"));
        if (breaker.consecutiveFailures() > 0 && breaker.maxCooldown().compareTo(breaker.cooldown()) < 0) {
            b.problem("max_cooldown", breaker.maxCooldown() + " (expected: at least breaker.cooldown, " + breaker.cooldown() + ")");
        }
        Section p = s.sub("pool");
        PoolSettings pool = new PoolSettings((int) p.integer("max_idle", 0), p.duration("idle_timeout"), p.duration("max_lifetime"));
        String probe = s.string("probe");
        if (probe == null || !probe.startsWith("/")) s.problem("probe", "\"" + probe + "\" (expected: a path starting with /)");
        return new UpstreamSettings(name, url == null ? URI.create("http://invalid.invalid") : url, proxy, auth,
                limits, breaker, overrides(s.sub("timeouts")), pool, probe, health(s.sub("health")), resumeStrategy(s));
    }

    private static final java.util.regex.Pattern EXPECTED_STATUS = java.util.regex.Pattern.compile("[1-5](\\d\\d|xx)");

    /** {@code upstreams.<name>.health}: off (HealthSettings.OFF's shape) unless a path is set. */
    private static HealthSettings health(Section h) {
        String path = h.string("path");
        if (path != null && !path.startsWith("/")) h.problem("path", "\"" + path + "\" (expected: a path starting with /, like /v1/models)");
        String method = h.string("method");
        if (method == null || !method.matches("[A-Z]+")) h.problem("method", "\"" + method + "\" (expected: an HTTP method like GET or HEAD)");
        Duration interval = h.duration("interval");
        if (interval.compareTo(Duration.ofMillis(100)) < 0) h.problem("interval", interval + " (expected: at least 100ms, like 2s)");
        long after = h.integer("healthy_after", 1);
        List<String> expected = h.strings("expected_status");
        if (expected.isEmpty()) h.problem("expected_status", "empty (expected: statuses or classes that pass, like [2xx] or [200, 404])");
        for (String e : expected) {
            if (!EXPECTED_STATUS.matcher(e).matches()) h.problem("expected_status", "\"" + e + "\" (expected: an HTTP status like 200 or a class like 2xx)");
        }
        return new HealthSettings(path, method == null ? "GET" : method, interval, (int) Math.min(after, 1000), expected);
    }

    private static LimitSettings.Scope scope(Section l) {
        String v = l.string("scope");
        if ("shared".equalsIgnoreCase(v)) return LimitSettings.Scope.SHARED;
        if (!"local".equalsIgnoreCase(v)) l.problem("scope", "\"" + v + "\" (expected: local or shared)");
        return LimitSettings.Scope.LOCAL;
    }

    private static ClusterSettings cluster(Section c, Map<String, UpstreamSettings> upstreams) {
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

    private static URI url(Section s, String k) {
        String v = s.string(k);
        if (v == null) {
            s.problem(k, "missing (expected: an http:// or https:// URL, like https://api.openai.com)");
            return null;
        }
        try {
            URI u = new URI(v);
            String scheme = u.getScheme() == null ? "" : u.getScheme().toLowerCase(Locale.ROOT);
            if (!scheme.equals("http") && !scheme.equals("https") || u.getHost() == null || u.getRawQuery() != null
                    || u.getRawFragment() != null || u.getRawUserInfo() != null) {
                s.problem(k, "\"" + v + "\" (expected: an http:// or https:// URL with a host and no query, like https://api.openai.com)");
                return null;
            }
            return new URI(scheme, null, u.getHost(), u.getPort(), u.getPath(), null, null);
        } catch (URISyntaxException e) {
            s.problem(k, "\"" + v + "\" is not a URL (" + e.getReason() + "; expected: like https://api.openai.com)");
            return null;
        }
    }

    private List<RouteSettings> routes(Map<String, UpstreamSettings> upstreams, Config globalRetry) {
        List<RouteSettings> out = new ArrayList<>();
        Config template = reference.getConfig("route_defaults");
        Map<String, String> seen = new HashMap<>();
        Set<String> names = new java.util.HashSet<>();
        int i = 0;
        for (ConfigValue v : ConfigLoader.list(root.config, "routes")) {
            String path = "routes[" + i++ + "].";
            if (v.valueType() != ConfigValueType.OBJECT) continue; // reported by ConfigSchema
            Section s = new Section(((ConfigObject) v).toConfig().withFallback(template), path, problemsOf());
            String prefix = s.string("prefix");
            if (prefix == null || !prefix.startsWith("/")) {
                s.problem("prefix", (prefix == null ? "missing" : "\"" + prefix + "\"") + " (expected: a path starting with /, like /v1)");
                prefix = "/";
            }
            if (prefix.length() > 1 && prefix.endsWith("/")) prefix = prefix.substring(0, prefix.length() - 1);
            // Requests are routed on their normalised path: a prefix in any other form would never match.
            PathNormalizer.Result normal = PathNormalizer.normalize(prefix);
            if (normal instanceof PathNormalizer.Refused refused) {
                s.problem("prefix", "\"" + prefix + "\" is not a normalised path (" + refused.reason() + ")");
            } else if (!((PathNormalizer.Normalized) normal).pathAndQuery().equals(prefix)) {
                s.problem("prefix", "\"" + prefix + "\" is not a normalised path (expected: "
                        + ((PathNormalizer.Normalized) normal).path() + ")");
            }
            String name = s.string("name");
            if (name == null) name = prefix;
            if (!names.add(name)) s.problem("name", "\"" + name + "\" is used by another route (expected: unique names)");
            List<String> models = s.strings("models");
            String identity = prefix + " " + new TreeSet<>(models);
            String other = seen.putIfAbsent(identity, name);
            if (other != null) {
                s.problem("prefix", "\"" + prefix + "\" is also the prefix of route \"" + other + "\""
                        + (models.isEmpty() ? "" : " with the same models")
                        + " (expected: unique prefixes, or distinct models lists)");
            }
            List<RouteTarget> targets = targets(s, ((ConfigObject) v).toConfig(), upstreams, root.config.getObject("upstreams").keySet());
            List<String> fallbackOn = s.strings("fallback_on");
            checkWords(s, "fallback_on", fallbackOn, FALLBACK_ON_WORDS);
            String dialect = s.string("dialect");
            RouteSettings.Dialect d = RouteSettings.Dialect.OPENAI;
            if ("anthropic".equalsIgnoreCase(dialect)) d = RouteSettings.Dialect.ANTHROPIC;
            else if (!"openai".equalsIgnoreCase(dialect)) s.problem("dialect", "\"" + dialect + "\" (expected: openai or anthropic)");
            Section retry = new Section(s.config.getConfig("retry").withFallback(globalRetry), path + "retry.", problemsOf());
            out.add(new RouteSettings(name, prefix, s.bool("strip_prefix"), models, targets, fallbackOn, d,
                    overrides(s.sub("timeouts")), retry(retry), headerNames(s, "strip_request_headers"),
                    s.duration("hedge_after"), resume(s.sub("resume")), McpConfig.kind(s)));
        }
        return out;
    }

    private static ResumeSettings resume(Section r) {
        java.util.Set<ResumeSettings.Trigger> on = java.util.EnumSet.noneOf(ResumeSettings.Trigger.class);
        for (String w : r.strings("on")) {
            ResumeSettings.Trigger t = ResumeSettings.Trigger.of(w);
            if (t != null) {
                on.add(t);
                continue;
            }
            java.util.Set<String> words = new TreeSet<>(List.of("reset", "stream_idle", "inband_error"));
            String hint = DidYouMean.closest(w, words);
            r.problem("on", "\"" + w + "\"" + (hint != null ? " (did you mean \"" + hint + "\"?)" : "")
                    + " (expected: a list of " + words + ", or [] for off)");
        }
        long maxBuffer = r.bytes("max_buffer");
        if (maxBuffer < 1) r.problem("max_buffer", maxBuffer + " (expected: a size >= 1 byte, like 256KiB)");
        return new ResumeSettings(on, (int) r.integer("max", 0), maxBuffer);
    }

    private static ResumeSettings.Strategy resumeStrategy(Section s) {
        String v = s.string("resume_strategy");
        if ("prefill".equalsIgnoreCase(v)) return ResumeSettings.Strategy.PREFILL;
        if (!"replay".equalsIgnoreCase(v)) s.problem("resume_strategy", "\"" + v + "\" (expected: prefill or replay)");
        return ResumeSettings.Strategy.REPLAY;
    }

    private static List<String> headerNames(Section s, String key) {
        List<String> out = new ArrayList<>();
        for (String name : s.strings(key)) {
            if (AgentHeaders.isHeaderName(name)) out.add(name.toLowerCase(Locale.ROOT));
            else s.problem(key, "\"" + name + "\" is not a header name (expected: letters, digits and -, like x-agent-session)");
        }
        return out;
    }

    /** {@code declared}: every upstream name written, mapped or not (one that is not was reported already). */
    private static List<RouteTarget> targets(Section s, Config raw, Map<String, UpstreamSettings> upstreams, Set<String> declared) {
        List<RouteTarget> out = new ArrayList<>();
        List<ConfigValue> items = ConfigLoader.list(raw, "upstreams");
        if (items.isEmpty()) s.problem("upstreams", "missing (expected: a list of upstream names, like [openai])");
        int j = 0;
        for (ConfigValue item : items) {
            String k = "upstreams[" + j++ + "]";
            String name;
            String model = null;
            if (item.valueType() == ConfigValueType.STRING) {
                name = (String) item.unwrapped();
            } else if (item.valueType() == ConfigValueType.OBJECT) {
                Config c = ((ConfigObject) item).toConfig();
                name = c.hasPath("upstream") ? c.getValue("upstream").unwrapped().toString() : null;
                model = c.hasPath("model") ? c.getValue("model").unwrapped().toString() : null;
            } else {
                name = null;
            }
            if (name != null && !upstreams.containsKey(name) && declared.contains(name)) continue;
            if (name == null || !upstreams.containsKey(name)) {
                String hint = name == null ? null : DidYouMean.closest(name, upstreams.keySet());
                s.problems().add(new InvalidConfigException.Problem(s.key(k), ConfigLoader.location(item.origin()),
                        (name == null ? "expected an upstream name or {upstream: NAME, model: M}"
                                : "unknown upstream \"" + name + "\"" + (hint != null ? " (did you mean \"" + hint + "\"?)" : ""))
                                + "; expected one of " + new TreeSet<>(declared)));
                continue;
            }
            out.add(new RouteTarget(name, model));
        }
        return out;
    }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s;
    }

}
