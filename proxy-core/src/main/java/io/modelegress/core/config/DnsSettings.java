package io.modelegress.core.config;

import java.util.List;
import java.util.Map;

/** The {@code dns} block: optional resolver addresses and static name overrides (like curl --resolve). */
public record DnsSettings(List<HostPort> servers, Map<String, String> hosts) {
    public DnsSettings {
        servers = List.copyOf(servers);
        hosts = Map.copyOf(hosts);
    }
}
