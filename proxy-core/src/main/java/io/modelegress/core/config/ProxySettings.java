package io.modelegress.core.config;

import java.time.Duration;
import java.util.List;

/**
 * The global {@code proxy} block. Proxy URLs are kept as written (credentials included) and parsed by
 * {@code io.modelegress.core.proxy}; an empty list means "not set". {@code proxy.https} and {@code proxy.http} may be
 * one URL or a failover list, tried in order. {@code pac} is null, a {@code file:}/{@code http(s):} URL or {@code wpad}.
 */
public record ProxySettings(boolean useEnvironment, List<String> httpsProxies, List<String> httpProxies, List<String> noProxy,
                            String pac, Duration pacRefresh, Duration pacTimeout, Duration ejectFor) {
    public static final Duration DEFAULT_PAC_REFRESH = Duration.ofMinutes(5);
    public static final Duration DEFAULT_PAC_TIMEOUT = Duration.ofSeconds(1);
    public static final Duration DEFAULT_EJECT_FOR = Duration.ofSeconds(30);

    public ProxySettings {
        httpsProxies = List.copyOf(httpsProxies);
        httpProxies = List.copyOf(httpProxies);
        noProxy = List.copyOf(noProxy);
    }

    /** One proxy per scheme (or null), no PAC: the shape before failover lists. */
    public ProxySettings(boolean useEnvironment, String https, String http, List<String> noProxy) {
        this(useEnvironment, https == null ? List.of() : List.of(https), http == null ? List.of() : List.of(http), noProxy,
                null, DEFAULT_PAC_REFRESH, DEFAULT_PAC_TIMEOUT, DEFAULT_EJECT_FOR);
    }

    public static ProxySettings none() {
        return new ProxySettings(false, (String) null, null, List.of());
    }

    /** The first (or only) {@code proxy.https} entry, null when unset. */
    public String https() { return httpsProxies.isEmpty() ? null : httpsProxies.get(0); }

    /** The first (or only) {@code proxy.http} entry, null when unset. */
    public String http() { return httpProxies.isEmpty() ? null : httpProxies.get(0); }

    public ProxySettings withPac(String pacLocation) {
        return new ProxySettings(useEnvironment, httpsProxies, httpProxies, noProxy, pacLocation, pacRefresh, pacTimeout, ejectFor);
    }
}
