package io.modelegress.server.testing;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.Assertions;

/**
 * A real Squid on 127.0.0.1 with basic auth, no cache and its own config, logs and hosts file in a temp dir. Test
 * names ({@code api.test}…) resolve to 127.0.0.1 through that hosts file, so Squid never needs real DNS.
 * Without Squid the calling test is skipped, unless {@code EGRESS_REQUIRE_SQUID=1} (CI), where it fails.
 *
 * <p>Squid writes an access-log line when a transaction ends; for a CONNECT that is when the tunnel closes, so
 * close the client side first and then {@link #awaitAccessLog wait} for the line.
 */
public final class SquidProxy implements AutoCloseable {
    private static final String INSTALL = "apt-get install -y squid";
    private static final Duration START_LIMIT = Duration.ofSeconds(20);
    private static final List<String> HELPER_DIRS = List.of("/usr/lib/squid", "/usr/lib64/squid", "/usr/libexec/squid");

    private final Path dir;
    private final int port;
    private final Process process;
    private final List<ProcessHandle> children;

    /** One access-log line in Squid's native format: status ({@code TCP_TUNNEL/200}), method, URL, user. */
    public record Entry(String status, String method, String url, String user, String line) {
        static Entry parse(String line) {
            String[] f = line.trim().split("\\s+");
            if (f.length < 8) return new Entry("", "", "", "", line);
            return new Entry(f[3], f[5], f[6], f[7], line);
        }
    }

    private SquidProxy(Path dir, int port, Process process) {
        this.dir = dir;
        this.port = port;
        this.process = process;
        this.children = new ArrayList<>();
    }

    /**
     * Starts Squid accepting {@code user}:{@code password} (basic auth) and resolving each of {@code names} to
     * 127.0.0.1; returns once it accepts connections.
     */
    public static SquidProxy start(String user, String password, String... names) throws IOException, InterruptedException {
        Path ncsa = require(findHelper("basic_ncsa_auth"), "squid's basic_ncsa_auth helper not found in " + HELPER_DIRS + ": " + INSTALL);
        Path openssl = require(onPath("openssl"), "openssl not installed (needed to write Squid's password file): apt-get install -y openssl");
        String hash = apr1(openssl, password);
        return start(dir -> {
            writeShared(dir.resolve("passwd"), user + ":" + hash + "\n");
            return basic(ncsa, dir);
        }, Map.of(), names);
    }

    /**
     * Squid asking for NTLM (its {@code ntlm_fake_auth} helper: the real three-message handshake, any credentials
     * accepted) and, listed first, Basic for {@code user}/{@code password}: a client must pick NTLM by strength.
     */
    public static SquidProxy startNtlm(String user, String password, String... names) throws IOException, InterruptedException {
        Path ncsa = require(findHelper("basic_ncsa_auth"), "squid's basic_ncsa_auth helper not found in " + HELPER_DIRS + ": " + INSTALL);
        Path ntlm = require(findHelper("ntlm_fake_auth"), "squid's ntlm_fake_auth helper not found in " + HELPER_DIRS + ": " + INSTALL);
        Path openssl = require(onPath("openssl"), "openssl not installed (needed to write Squid's password file): apt-get install -y openssl");
        String hash = apr1(openssl, password);
        return start(dir -> {
            writeShared(dir.resolve("passwd"), user + ":" + hash + "\n");
            return basic(ncsa, dir) + String.join("\n",
                    "auth_param ntlm program " + ntlm,
                    "auth_param ntlm children 2 startup=1",
                    "auth_param ntlm keep_alive on",
                    "");
        }, Map.of(), names);
    }

    /**
     * Squid asking for Negotiate, checked by its {@code negotiate_kerberos_auth} helper against {@code keytab}
     * (holding {@code spn}), with {@code krb5Conf} for the helper's realm.
     */
    public static SquidProxy startNegotiate(Path keytab, Path krb5Conf, String spn, String... names) throws IOException, InterruptedException {
        Path helper = require(findHelper("negotiate_kerberos_auth"), "squid's negotiate_kerberos_auth helper not found in " + HELPER_DIRS + ": " + INSTALL);
        return start(dir -> String.join("\n",
                "auth_param negotiate program " + helper + " -s " + spn + " -k " + keytab,
                "auth_param negotiate children 2 startup=1",
                "auth_param negotiate keep_alive on",
                ""), Map.of("KRB5_CONFIG", krb5Conf.toString(), "KRB5_KTNAME", keytab.toString(),
                "KRB5RCACHETYPE", "none"), names);
    }

    private interface AuthLines {
        String write(Path dir) throws IOException;
    }

    private static String basic(Path ncsa, Path dir) {
        return String.join("\n",
                "auth_param basic program " + ncsa + " " + dir.resolve("passwd"),
                "auth_param basic realm squid-test",
                "auth_param basic children 2 startup=1",
                "");
    }

    private static SquidProxy start(AuthLines auth, Map<String, String> env, String... names) throws IOException, InterruptedException {
        Path squid = require(findSquid(), "squid not installed: " + INSTALL);
        Path dir = Files.createTempDirectory("squid-test");
        // Squid started as root drops to the `proxy` user, which must write its logs here.
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwxrwx"));
        String authLines = auth.write(dir);
        writeShared(dir.resolve("hosts"), "127.0.0.1 " + String.join(" ", names) + "\n");
        IOException last = null;
        for (int tries = 0; tries < 3; tries++) {
            int port = LoopbackPorts.free();
            writeShared(dir.resolve("squid.conf"), config(dir, port, authLines));
            ProcessBuilder pb = new ProcessBuilder(squid.toString(), "-N", "-f", dir.resolve("squid.conf").toString())
                    .directory(dir.toFile()).redirectErrorStream(true).redirectOutput(dir.resolve("squid.out").toFile());
            pb.environment().putAll(env);
            Process p = pb.start();
            SquidProxy proxy = new SquidProxy(dir, port, p);
            try {
                Awaitility.await().atMost(START_LIMIT).pollInterval(Duration.ofMillis(50))
                        .until(() -> !p.isAlive() || LoopbackPorts.accepts(port));
            } catch (ConditionTimeoutException e) {
                String why = proxy.diagnostics();
                proxy.close();
                throw new IOException("squid did not accept connections on 127.0.0.1:" + port + " within " + START_LIMIT + "\n" + why);
            }
            if (p.isAlive()) {
                proxy.children.addAll(p.descendants().toList());
                return proxy;
            }
            last = new IOException("squid exited with " + p.exitValue() + " before accepting connections\n" + proxy.diagnostics());
            // A port taken between our probe and Squid's bind is the one failure worth another try.
            if (!proxy.diagnostics().contains("Address already in use")) break;
        }
        deleteQuietly(dir);
        throw last;
    }

    private static String config(Path dir, int port, String authLines) {
        return String.join("\n",
                "http_port 127.0.0.1:" + port,
                "visible_hostname squid-test",
                "pid_filename " + dir.resolve("squid.pid"),
                "coredump_dir " + dir,
                "cache deny all",
                "cache_mem 8 MB",
                "access_log stdio:" + dir.resolve("access.log") + " squid",
                "cache_log " + dir.resolve("cache.log"),
                "cache_store_log none",
                "netdb_filename none",
                "buffered_logs off",
                "logfile_rotate 0",
                "shutdown_lifetime 0 seconds",
                // The pinger helper outlives Squid when Squid exits: keep it off.
                "pinger_enable off",
                "icp_port 0",
                "htcp_port 0",
                "hosts_file " + dir.resolve("hosts"),
                // Names outside the hosts file go to a port where nothing listens: a quick failure, never real DNS.
                "dns_nameservers 127.0.0.1",
                "dns_timeout 1 seconds",
                authLines + "acl authed proxy_auth REQUIRED",
                "acl SSL_ports port 1-65535",
                "http_access deny CONNECT !SSL_ports",
                "http_access allow authed",
                "http_access deny all",
                "");
    }

    public int port() { return port; }

    /** {@code http://user:password@127.0.0.1:port}, both percent-encoded. */
    public String url(String user, String password) {
        return "http://" + enc(user) + ":" + enc(password) + "@127.0.0.1:" + port;
    }

    /** The access log as it is now, one entry per finished transaction. */
    public List<Entry> accessLog() {
        return lines(dir.resolve("access.log")).stream().filter(l -> !l.isBlank()).map(Entry::parse).toList();
    }

    /** Waits (bounded) until the access log satisfies {@code until}; fails with the log so far. */
    public List<Entry> awaitAccessLog(Duration limit, Predicate<List<Entry>> until) {
        try {
            Awaitility.await().atMost(limit).pollInterval(Duration.ofMillis(50)).until(() -> until.test(accessLog()));
        } catch (ConditionTimeoutException e) {
            String sockets;
            try {
                Process p = new ProcessBuilder("ss", "-tnp").redirectErrorStream(true).start();
                sockets = new String(p.getInputStream().readAllBytes());
            } catch (Exception x) {
                sockets = x.toString();
            }
            throw new AssertionError("squid's access log did not show what was expected within " + limit + ":\n"
                    + String.join("\n", lines(dir.resolve("access.log"))) + "\nsockets:\n" + sockets);
        }
        return accessLog();
    }

    public String cacheLog() { return String.join("\n", lines(dir.resolve("cache.log"))); }

    /** Stops Squid (SIGTERM, then SIGKILL) and the helpers it started, then deletes its directory. */
    @Override
    public void close() {
        List<ProcessHandle> helpers = new ArrayList<>(children);
        helpers.addAll(process.descendants().toList());
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
        for (ProcessHandle h : helpers) if (h.isAlive()) h.destroyForcibly();
        deleteQuietly(dir);
    }

    private String diagnostics() {
        return "squid output:\n" + String.join("\n", lines(dir.resolve("squid.out")))
                + "\ncache.log:\n" + cacheLog();
    }

    private static Path require(Path found, String message) {
        if (found != null) return found;
        if ("1".equals(System.getenv("EGRESS_REQUIRE_SQUID"))) Assertions.fail(message + " (EGRESS_REQUIRE_SQUID=1)");
        org.junit.jupiter.api.Assumptions.abort(message);
        return null;
    }

    private static Path findSquid() {
        Path p = onPath("squid");
        return p != null ? p : executable(Path.of("/usr/sbin/squid"));
    }

    private static Path findHelper(String name) {
        for (String d : HELPER_DIRS) {
            Path p = executable(Path.of(d, name));
            if (p != null) return p;
        }
        return null;
    }

    private static Path onPath(String name) {
        String path = System.getenv().getOrDefault("PATH", "");
        for (String d : path.split(java.io.File.pathSeparator)) {
            if (d.isEmpty()) continue;
            Path p = executable(Path.of(d, name));
            if (p != null) return p;
        }
        return null;
    }

    private static Path executable(Path p) { return Files.isRegularFile(p) && Files.isExecutable(p) ? p : null; }

    /** An Apache MD5 ($apr1$) hash, which basic_ncsa_auth reads; the password goes in on stdin, not argv. */
    private static String apr1(Path openssl, String password) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(openssl.toString(), "passwd", "-apr1", "-stdin").redirectErrorStream(true).start();
        p.getOutputStream().write((password + "\n").getBytes(StandardCharsets.UTF_8));
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0 || !out.startsWith("$apr1$")) {
            p.destroyForcibly();
            throw new IOException("openssl passwd -apr1 failed: " + out);
        }
        return out;
    }

    private static void writeShared(Path file, String text) throws IOException {
        Files.writeString(file, text, StandardCharsets.UTF_8);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-rw-rw-"));
    }



    private static List<String> lines(Path file) {
        try {
            return Files.exists(file) ? Files.readAllLines(file, StandardCharsets.UTF_8) : List.of();
        } catch (IOException e) {
            return List.of("(could not read " + file + ": " + e + ")");
        }
    }

    private static String enc(String s) { return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20"); }

    private static void deleteQuietly(Path dir) {
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // A temp dir left behind is harmless.
        }
    }
}
