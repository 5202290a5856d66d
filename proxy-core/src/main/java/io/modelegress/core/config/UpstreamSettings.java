package io.modelegress.core.config;

import java.net.URI;

/**
 * One upstream: where it is ({@code url} = scheme, host, port and an optional base path prepended to every request),
 * how to reach it ({@code proxy}: "inherit", "direct" or a proxy URL), its credential, limits, breaker, active
 * health check and overrides; {@code resumeStrategy}: how it continues a broken stream on a route with
 * {@code resume} on.
 */
public record UpstreamSettings(String name, URI url, String proxy, AuthSettings auth, LimitSettings limits,
                               BreakerSettings breaker, Timeouts.Overrides timeouts, PoolSettings pool,
                               String probePath, HealthSettings health, ResumeSettings.Strategy resumeStrategy,
                               Http2Mode http2) {

    /** {@code upstreams.NAME.http2}: offer HTTP/2 by ALPN over TLS ({@code auto}), or HTTP/1.1 only ({@code off}). */
    public enum Http2Mode { AUTO, OFF }

    /** With HTTP/2 offered over TLS (the default). */
    public UpstreamSettings(String name, URI url, String proxy, AuthSettings auth, LimitSettings limits,
                            BreakerSettings breaker, Timeouts.Overrides timeouts, PoolSettings pool, String probePath,
                            HealthSettings health, ResumeSettings.Strategy resumeStrategy) {
        this(name, url, proxy, auth, limits, breaker, timeouts, pool, probePath, health, resumeStrategy, Http2Mode.AUTO);
    }

    /** Without resume settings of its own (replay). */
    public UpstreamSettings(String name, URI url, String proxy, AuthSettings auth, LimitSettings limits,
                            BreakerSettings breaker, Timeouts.Overrides timeouts, PoolSettings pool, String probePath,
                            HealthSettings health) {
        this(name, url, proxy, auth, limits, breaker, timeouts, pool, probePath, health, ResumeSettings.Strategy.REPLAY);
    }

    /** Without an active health check. */
    public UpstreamSettings(String name, URI url, String proxy, AuthSettings auth, LimitSettings limits,
                            BreakerSettings breaker, Timeouts.Overrides timeouts, PoolSettings pool, String probePath,
                            ResumeSettings.Strategy resumeStrategy) {
        this(name, url, proxy, auth, limits, breaker, timeouts, pool, probePath, HealthSettings.OFF, resumeStrategy);
    }

    public boolean isTls() { return "https".equals(url.getScheme()); }

    /** Whether a connection to this upstream offers {@code h2} by ALPN (TLS only: no cleartext h2c). */
    public boolean offersHttp2() { return http2 == Http2Mode.AUTO && isTls(); }

    public String host() { return url.getHost(); }

    public int port() {
        int p = url.getPort();
        return p > 0 ? p : isTls() ? 443 : 80;
    }

    /** The base path with no trailing slash ("" when none). */
    public String basePath() {
        String p = url.getRawPath();
        if (p == null) return "";
        return p.endsWith("/") ? p.substring(0, p.length() - 1) : p;
    }

    /** The Host header value: the port only when it is not the scheme's default. */
    public String authority() {
        String h = host().indexOf(':') >= 0 ? "[" + host() + "]" : host();
        return url.getPort() > 0 && url.getPort() != (isTls() ? 443 : 80) ? h + ":" + url.getPort() : h;
    }
}
