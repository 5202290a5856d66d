package io.modelegress.server.testing;

import io.modelegress.core.config.ConfigLoader;
import io.modelegress.core.config.EgressConfig;
import io.modelegress.server.server.EgressServer;
import java.util.Map;

/**
 * The real sidecar in-process, on loopback ports chosen by the OS. Tests describe its config with {@link TestConfig}
 * ({@code TestConfig.config()...start()}); YAML text goes through {@link #start(String)} directly only where the text
 * itself is under test.
 */
public final class Sidecar implements AutoCloseable {
    public final EgressServer server;

    private Sidecar(EgressServer server) { this.server = server; }

    /** {@code yaml} gets server.listen/admin on port 0 unless it sets a server block itself. */
    public static Sidecar start(String yaml, Map<String, String> env) throws Exception {
        String full = yaml.contains("server:") ? yaml : "server:\n  listen: 127.0.0.1:0\n  admin: 127.0.0.1:0\n" + yaml;
        // Tests stop sidecars all the time: no readiness grace unless the test asks for one.
        if (!full.contains("shutdown_delay")) full = full.replaceFirst("server:\n", "server:\n  shutdown_delay: 0s\n");
        if (!full.contains("drain_timeout")) full = full.replaceFirst("server:\n", "server:\n  drain_timeout: 200ms\n");
        EgressConfig cfg = ConfigLoader.parse(full, "test.yaml", env::get);
        return new Sidecar(new EgressServer(cfg, env).start());
    }

    public static Sidecar start(String yaml) throws Exception { return start(yaml, Map.of()); }

    public int port() { return server.agentAddress().getPort(); }

    public String url() { return "http://127.0.0.1:" + port(); }

    public String adminUrl() { return "http://127.0.0.1:" + server.adminAddress().getPort(); }

    @Override
    public void close() { server.stop(); }
}
