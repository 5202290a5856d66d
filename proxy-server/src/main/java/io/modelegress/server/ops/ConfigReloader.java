package io.modelegress.server.ops;

import io.modelegress.core.config.ConfigLoader;
import io.modelegress.core.config.EgressConfig;
import io.modelegress.core.config.InvalidConfigException;
import io.modelegress.core.config.UpstreamSettings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches the config file (by polling its resolved path, size and mtime, which also catches a Kubernetes ConfigMap
 * swapping its {@code ..data} symlink) and re-reads credential files; on a change, or on SIGHUP, validates the new
 * config and hands it over. An invalid one is rejected with the start-up message and the old one stays. Runs on its
 * own thread: file I/O never touches an event loop.
 */
public final class ConfigReloader implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ConfigReloader.class);

    private final Path file;
    private final Map<String, String> env;
    private final Supplier<EgressConfig> current;
    private final Consumer<EgressConfig> swap;
    private final Consumer<String> result;
    private final ScheduledExecutorService thread = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "egress-config-watch");
        t.setDaemon(true);
        return t;
    });
    private String stamp;

    /** {@code file} null: the embedded default, so only credential files are watched. */
    public ConfigReloader(Path file, Map<String, String> env, Supplier<EgressConfig> current,
                          Consumer<EgressConfig> swap, Consumer<String> result, long pollMillis) {
        this.file = file;
        this.env = env;
        this.current = current;
        this.swap = swap;
        this.result = result;
        this.stamp = stamp();
        thread.scheduleWithFixedDelay(this::poll, pollMillis, pollMillis, TimeUnit.MILLISECONDS);
    }

    /** SIGHUP: reload now, whether or not the file looks changed. */
    public void reloadNow() {
        thread.execute(() -> {
            try {
                stamp = stamp();
                reload("SIGHUP");
            } catch (RuntimeException e) {
                // An executor swallows what a task throws: say it, or a SIGHUP that did nothing looks like success.
                LOG.error("config reload (SIGHUP) failed, keeping the running config: {}", e.toString());
                result.accept("failed");
            }
        });
    }

    private void poll() {
        try {
            for (UpstreamSettings u : current.get().upstreams().values()) {
                if (u.auth() != null && u.auth().value().file() != null && u.auth().value().refresh()) {
                    if (u.auth().value().current().invalid()) {
                        LOG.error("credential file of upstream \"{}\" changed and cannot be used: {}; its requests get"
                                + " credential_invalid until it is fixed", u.name(), u.auth().value().current().missingReason());
                    } else {
                        LOG.info("credential file of upstream \"{}\" changed; using it from now on ({})", u.name(),
                                u.auth().value().current());
                    }
                }
            }
            String now = stamp();
            if (file != null && !now.equals(stamp)) {
                stamp = now;
                reload("file change");
            }
        } catch (RuntimeException e) {
            LOG.warn("config watch failed: {}", e.toString());
        }
    }

    private void reload(String why) {
        if (file == null) {
            LOG.info("reload ({}): running on the embedded default config, nothing to reload", why);
            return;
        }
        EgressConfig next;
        try {
            next = ConfigLoader.load(file, env::get);
        } catch (InvalidConfigException e) {
            rejected(why, e.getMessage());
            return;
        } catch (RuntimeException e) {
            // The loader reports every problem it knows as InvalidConfigException; anything else is still a rejection.
            rejected(why, file + ": cannot be loaded (" + e.getClass().getSimpleName() + ": " + e.getMessage() + ")");
            return;
        }
        EgressConfig old = current.get();
        if (!next.server().listen().equals(old.server().listen()) || !next.server().admin().equals(old.server().admin())) {
            LOG.warn("config reload ({}): server.listen/server.admin changes take effect only after a restart", why);
        }
        try {
            swap.accept(next);
            result.accept("ok");
            LOG.info("config reloaded ({}): {} upstreams, {} routes", why, next.upstreams().size(), next.routes().size());
        } catch (RuntimeException e) {
            LOG.error("config reload ({}) failed, keeping the running config: {}", why, e.getMessage());
            result.accept("failed");
        }
    }

    private void rejected(String why, String problems) {
        LOG.error("config reload ({}) rejected, keeping the running config:\n  {}", why, problems.replace("\n", "\n  "));
        result.accept("rejected");
    }

    private String stamp() {
        if (file == null) return "";
        try {
            Path real = file.toRealPath();
            return real + "|" + Files.size(real) + "|" + Files.getLastModifiedTime(real).toMillis();
        } catch (IOException e) {
            return "missing";
        }
    }

    @Override
    public void close() { thread.shutdownNow(); }
}
