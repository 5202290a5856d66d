package io.modelegress.core.config;

import java.util.List;
import java.util.Map;

/** The whole effective configuration: immutable, validated, loaded once by {@link ConfigLoader}. */
public record EgressConfig(String source, ServerSettings server, ProxySettings proxy, ProxyCredentials proxyAuth, TlsSettings tls,
                           DnsSettings dns, Timeouts timeouts, RetrySettings retry,
                           Map<String, UpstreamSettings> upstreams, List<RouteSettings> routes, ClusterSettings cluster) {
    public EgressConfig(String source, ServerSettings server, ProxySettings proxy, ProxyCredentials proxyAuth, TlsSettings tls,
                        DnsSettings dns, Timeouts timeouts, RetrySettings retry,
                        Map<String, UpstreamSettings> upstreams, List<RouteSettings> routes) {
        this(source, server, proxy, proxyAuth, tls, dns, timeouts, retry, upstreams, routes, ClusterSettings.NONE);
    }

    public EgressConfig {
        cluster = cluster == null ? ClusterSettings.NONE : cluster;
        upstreams = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(upstreams)); // config order
        routes = List.copyOf(routes);
    }

    public UpstreamSettings upstream(String name) { return upstreams.get(name); }

    /** Effective timeouts for a route's attempt on an upstream: global, then upstream, then route overrides. */
    public Timeouts timeoutsFor(RouteSettings route, UpstreamSettings upstream) {
        return timeouts.with(upstream.timeouts()).with(route.timeouts());
    }
}
