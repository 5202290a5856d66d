package io.modelegress.server.cli;

import io.modelegress.server.runtime.Transport;
import io.modelegress.server.server.ListenFailedException;
import io.modelegress.server.server.EgressServer;
import io.modelegress.server.ops.Warmup;
import io.modelegress.server.ops.Signals;
import io.modelegress.server.admin.Json;
import io.modelegress.core.config.ConfigLoader;
import io.modelegress.core.config.EgressConfig;
import io.modelegress.core.config.InvalidConfigException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

/** The command line (README.md, "Command line"): run, check-config, explain-proxy, doctor, training-run, --version, --help. */
public final class Main {
    static final int OK = 0;
    static final int FAILED = 1;
    static final int BAD_CONFIG = 2;

    private Main() {}

    public static void main(String[] args) {
        nettyAsTheSidecarRunsIt();
        int code = run(args, System.getenv(), System.out, System.err);
        if (code != OK || args.length > 0 && !args[0].startsWith("--config")) System.exit(code);
    }

    /**
     * The process-wide Netty settings the sidecar runs with (both below); also used by the bench's floor proxy, so
     * that it is measured as the sidecar runs. Must run before any Netty class loads.
     */
    public static void nettyAsTheSidecarRunsIt() {
        nettyJfrOffUnlessAsked();
        leakDetectionOffUnlessAsked();
    }

    /**
     * Netty's default leak detector (SIMPLE) records a stack trace for one buffer in 128 and tracks it in a shared
     * map: about 1 % of the sidecar's CPU per request under load, for a check the test suite already makes on every
     * buffer (PARANOID, a leak fails the build). Off in the sidecar unless {@code -Dio.netty.leakDetection.level}
     * asks for it (docs/operations.md).
     */
    static void leakDetectionOffUnlessAsked() {
        if (System.getProperty("io.netty.leakDetection.level") == null && System.getProperty("io.netty.leakDetectionLevel") == null) {
            io.netty.util.ResourceLeakDetector.setLevel(io.netty.util.ResourceLeakDetector.Level.DISABLED);
        }
    }

    /**
     * Netty 4.2's allocator registers its chunk and buffer events with JFR when first used: about 80 {@code jdk.jfr}
     * classes loaded at start for events no recording asks for (with {@code LogLayout},
     * 288 fewer classes and 5 MiB less idle RSS: docs/benchmarks.md). Off unless {@code -Dio.netty.jfr.enabled}
     * asks (docs/operations.md). Must run before any Netty class loads.
     */
    static void nettyJfrOffUnlessAsked() {
        if (System.getProperty("io.netty.jfr.enabled") == null) System.setProperty("io.netty.jfr.enabled", "false");
    }

    /** Parsed flags common to every command. */
    record Args(String command, Path config, boolean json, List<String> rest) {
        static Args parse(String[] argv) {
            String command = "run";
            Path config = null;
            boolean json = false;
            List<String> rest = new ArrayList<>();
            for (int i = 0; i < argv.length; i++) {
                String a = argv[i];
                if (a.equals("--config") && i + 1 < argv.length) config = Path.of(argv[++i]);
                else if (a.startsWith("--config=")) config = Path.of(a.substring(9));
                else if (a.equals("--json")) json = true;
                else if (i == 0 && !a.startsWith("-")) command = a;
                else rest.add(a);
            }
            return new Args(command, config, json, rest);
        }
    }

    static int run(String[] argv, Map<String, String> env, PrintStream out, PrintStream err) {
        if (argv.length > 0 && (argv[0].equals("--help") || argv[0].equals("-h") || argv[0].equals("help"))) {
            out.print(usage());
            return OK;
        }
        if (argv.length > 0 && argv[0].equals("--version")) {
            out.println("model-egress " + version());
            return OK;
        }
        Args a = Args.parse(argv);
        switch (a.command()) {
            case "run":
                if (!a.rest().isEmpty()) return usageError(err, "unexpected argument " + a.rest().get(0));
                return serve(a, env, err);
            case "check-config": {
                EgressConfig cfg = load(a, env, err);
                if (cfg == null) return BAD_CONFIG;
                out.println("config OK: " + cfg.source() + " (" + cfg.upstreams().size() + " upstreams, "
                        + cfg.routes().size() + " routes)");
                return OK;
            }
            case "explain-proxy": {
                if (a.rest().size() != 1) return usageError(err, "explain-proxy takes one URL");
                EgressConfig cfg = load(a, env, err);
                if (cfg == null) return BAD_CONFIG;
                Map<String, Object> d;
                try {
                    d = new io.modelegress.server.upstream.ProxyPlanner(cfg, env).explain(a.rest().get(0));
                } catch (IllegalArgumentException e) {
                    return usageError(err, e.getMessage());
                }
                if (a.json()) {
                    out.println(Json.write(d));
                } else {
                    out.println(d.get("url") + " -> " + (d.get("proxy") == null ? "direct" : "via " + d.get("proxy")));
                    out.println("  because " + d.get("reason"));
                    if (d.get("upstream") != null) out.println("  (upstream \"" + d.get("upstream") + "\" is configured for this host)");
                    explainProxyDetails(d, out);
                }
                return OK;
            }
            case "doctor":
                return doctor(a, env, out, err);
            case "training-run":
                if (!a.rest().isEmpty() || a.config() != null) return usageError(err, "training-run takes no arguments");
                return TrainingRun.run(env, out, err);
            default:
                return usageError(err, "unknown command " + a.command());
        }
    }

    private static int doctor(Args a, Map<String, String> env, PrintStream out, PrintStream err) {
        String route = null;
        for (int i = 0; i < a.rest().size(); i++) {
            if (a.rest().get(i).equals("--route") && i + 1 < a.rest().size()) route = a.rest().get(++i);
            else if (a.rest().get(i).startsWith("--route=")) route = a.rest().get(i).substring(8);
            else return usageError(err, "unexpected argument " + a.rest().get(i));
        }
        EgressConfig cfg = load(a, env, err);
        if (cfg == null) return BAD_CONFIG;
        String wanted = route;
        if (wanted != null && cfg.routes().stream().noneMatch(r -> r.name().equals(wanted))) {
            String names = cfg.routes().stream().map(r -> r.name()).collect(java.util.stream.Collectors.joining(", "));
            err.println("model-egress: no route named " + route + " (routes: " + names + ")");
            return BAD_CONFIG;
        }
        Transport transport = Transport.best();
        io.netty.channel.EventLoopGroup group = transport.newGroup(1, "egress-doctor");
        try {
            io.modelegress.server.doctor.DoctorReport report =
                    new io.modelegress.server.doctor.Doctor(cfg, env, transport, group).check(route);
            out.print(a.json() ? Json.write(report.json()) + "\n" : report.table());
            return report.ok() ? OK : FAILED;
        } catch (Exception e) {
            err.println("model-egress: doctor could not run: " + e.getMessage());
            return FAILED;
        } finally {
            group.shutdownGracefully(0, 100, java.util.concurrent.TimeUnit.MILLISECONDS).awaitUninterruptibly();
        }
    }

    private static int serve(Args a, Map<String, String> env, PrintStream err) {
        Warmup.start();
        EgressConfig cfg = load(a, env, err);
        if (cfg == null) return BAD_CONFIG;
        EgressServer server;
        try {
            server = new EgressServer(cfg, env, configPath(a, env)).start();
            Signals.onHangup(server::reloadNow);
        } catch (ListenFailedException e) {
            err.println("model-egress: " + e.getMessage());
            return BAD_CONFIG;
        } catch (Exception e) {
            err.println("model-egress: cannot start: " + e.getMessage());
            return FAILED;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.stop();
            stopped.countDown();
            // A drained stop is a clean exit: without this the JVM reports SIGTERM as 143.
            org.slf4j.ILoggerFactory lf = org.slf4j.LoggerFactory.getILoggerFactory();
            if (lf instanceof ch.qos.logback.classic.LoggerContext) ((ch.qos.logback.classic.LoggerContext) lf).stop();
            Runtime.getRuntime().halt(OK);
        }, "egress-shutdown"));
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return OK;
    }

    static Path configPath(Args a, Map<String, String> env) {
        if (a.config() != null) return a.config();
        String v = env.get("MODEL_EGRESS_CONFIG");
        return v == null || v.isBlank() ? null : Path.of(v);
    }

    /** The config from --config, else MODEL_EGRESS_CONFIG, else the embedded default; null (and a message) when invalid. */
    static EgressConfig load(Args a, Map<String, String> env, PrintStream err) {
        Path file = a.config();
        if (file == null && env.get("MODEL_EGRESS_CONFIG") != null && !env.get("MODEL_EGRESS_CONFIG").isBlank()) {
            file = Path.of(env.get("MODEL_EGRESS_CONFIG"));
        }
        try {
            return file == null ? ConfigLoader.loadDefault(env::get) : ConfigLoader.load(file, env::get);
        } catch (InvalidConfigException e) {
            err.println("model-egress: invalid config:");
            for (InvalidConfigException.Problem p : e.problems()) err.println("  " + p);
            return null;
        }
    }

    private static int usageError(PrintStream err, String message) {
        err.println("model-egress: " + message);
        err.print(usage());
        return BAD_CONFIG;
    }

    static String version() {
        String v = Main.class.getPackage().getImplementationVersion();
        return v == null ? "dev" : v;
    }

    static String usage() {
        return String.join("\n",
                "usage: java -jar model-egress.jar [command] [--config FILE]",
                "",
                "commands:",
                "  (none)                          run the sidecar (config: --config, $MODEL_EGRESS_CONFIG, or the embedded default)",
                "  check-config --config FILE      validate a config; exit 0 valid, 2 invalid",
                "  explain-proxy [--json] URL      the proxy decision for URL (config + environment) and why",
                "  doctor [--json] [--route NAME]  diagnose the network path to every upstream; exit 0 all pass, 1 a check failed",
                "  training-run                    start on loopback, serve a few requests, stop: run it under",
                "                                  -XX:ArchiveClassesAtExit=FILE to build an AppCDS archive (faster start)",
                "  --version                       print the version",
                "  --help                          this text",
                "");
    }

    /** The proxy auth scheme, the failover list (PAC or config) and the PAC file's state, when there are any. */
    @SuppressWarnings("unchecked")
    private static void explainProxyDetails(Map<String, Object> d, PrintStream out) {
        if (d.get("auth") != null) out.println("  auth: " + d.get("auth"));
        if (d.get("failover") instanceof java.util.List<?> legs) {
            out.println("  failover, in order (the first is used: " + d.get("used") + "):");
            for (Object leg : legs) {
                Map<String, Object> m = (Map<String, Object>) leg;
                out.println("    " + m.get("proxy") + "  from " + m.get("from")
                        + (m.get("ejected_for_ms") != null ? "  (ejected for " + m.get("ejected_for_ms") + "ms)" : ""));
            }
        }
        if (d.get("pac") instanceof Map<?, ?> pac) {
            out.println("  PAC file " + pac.get("location") + (pac.get("loaded_at") == null ? " (not loaded)" : " loaded at " + pac.get("loaded_at")));
            if (pac.get("last_error") != null) out.println("  PAC last error: " + pac.get("last_error"));
        }
    }
}
