package io.modelegress.core.config;

import java.util.List;

/**
 * The global {@code proxy} block. Proxy URLs are kept as written (credentials included) and parsed by
 * {@code io.modelegress.core.proxy}; null means "not set".
 */
public record ProxySettings(boolean useEnvironment, String https, String http, List<String> noProxy) {
    public ProxySettings {
        noProxy = List.copyOf(noProxy);
    }

    public static ProxySettings none() {
        return new ProxySettings(false, null, null, List.of());
    }
}
