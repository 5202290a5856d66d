package io.modelegress.deploy;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A sidecar config YAML read the way the server layers it: over proxy-core's reference.conf, so keys a deploy file
 * leaves out still have their real defaults. Only what the deploy files must agree on is exposed.
 */
record SidecarConfig(Config config) {
    record HostPort(String host, int port) {
        static HostPort parse(String s) {
            int colon = s.lastIndexOf(':');
            String host = s.substring(0, colon);
            if (host.startsWith("[") && host.endsWith("]")) host = host.substring(1, host.length() - 1);
            return new HostPort(host, Integer.parseInt(s.substring(colon + 1)));
        }

        boolean isLoopback() { return host.equals("127.0.0.1") || host.equals("localhost") || host.equals("::1"); }

        boolean isWildcard() { return host.equals("0.0.0.0") || host.equals("::") || host.isEmpty(); }
    }

    record Route(String name, String prefix, String dialect) {}

    @SuppressWarnings("unchecked")
    static SidecarConfig parse(String yaml) {
        Map<String, Object> map;
        try {
            map = DeployFiles.YAML.readValue(yaml, Map.class);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException("sidecar config is not valid YAML", e);
        }
        Config reference = ConfigFactory.parseFile(DeployFiles.referenceConf().toFile(),
                ConfigParseOptions.defaults().setAllowMissing(false));
        return new SidecarConfig(ConfigFactory.parseMap(map).withFallback(reference).resolve());
    }

    HostPort listen() { return HostPort.parse(config.getString("server.listen")); }

    HostPort admin() { return HostPort.parse(config.getString("server.admin")); }

    Duration shutdownDelay() { return config.getDuration("server.shutdown_delay"); }

    Duration drainTimeout() { return config.getDuration("server.drain_timeout"); }

    List<Route> routes() {
        List<Route> out = new ArrayList<>();
        for (Config r : config.getConfigList("routes")) {
            out.add(new Route(r.getString("name"), r.getString("prefix"),
                    r.hasPath("dialect") ? r.getString("dialect") : config.getString("route_defaults.dialect")));
        }
        return out;
    }

    /** upstream name -> auth.value_file, for the upstreams whose credential comes from a file. */
    Map<String, String> credentialFiles() {
        Map<String, String> out = new java.util.TreeMap<>();
        Config ups = config.getConfig("upstreams");
        for (String name : ups.root().keySet()) {
            String path = "\"" + name + "\".auth.value_file";
            if (ups.hasPath(path)) out.put(name, ups.getString(path));
        }
        return out;
    }

    java.util.Set<String> upstreamNames() { return config.getConfig("upstreams").root().keySet(); }
}
