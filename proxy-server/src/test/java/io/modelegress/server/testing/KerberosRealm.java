package io.modelegress.server.testing;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.Assertions;

/**
 * A throwaway MIT Kerberos realm for tests: {@code krb5kdc} on a free loopback port (TCP and UDP), its database
 * and config in a temp dir, principals and keytabs made with {@code kadmin.local}. Skips the test with the reason
 * when the MIT KDC is not installed, fails instead when {@code EGRESS_REQUIRE_KERBEROS=1} (CI).
 */
public final class KerberosRealm implements AutoCloseable {
    public static final String REALM = "EGRESS.TEST";
    private static final String INSTALL = "apt-get install -y krb5-kdc krb5-admin-server krb5-user";
    private static final Duration START_LIMIT = Duration.ofSeconds(20);

    private final Path dir;
    private final int port;
    private final Process kdc;

    private KerberosRealm(Path dir, int port, Process kdc) {
        this.dir = dir;
        this.port = port;
        this.kdc = kdc;
    }

    public static KerberosRealm start() throws IOException, InterruptedException {
        Path krb5kdc = require("/usr/sbin/krb5kdc");
        require("/usr/sbin/kdb5_util");
        require("/usr/sbin/kadmin.local");
        Path dir = Files.createTempDirectory("krb5-test");
        // Squid's helper runs as the proxy user and must read the service keytab here.
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        int port = LoopbackPorts.free();
        Files.writeString(dir.resolve("krb5.conf"), String.join("\n",
                "[libdefaults]",
                "  default_realm = " + REALM,
                "  dns_lookup_kdc = false",
                "  dns_lookup_realm = false",
                "  dns_canonicalize_hostname = false",
                "  rdns = false",
                "  udp_preference_limit = 1",
                "  default_ccache_name = FILE:" + dir.resolve("ccache"),
                "[realms]",
                "  " + REALM + " = {",
                "    kdc = 127.0.0.1:" + port,
                "  }",
                "[domain_realm]",
                "  localhost = " + REALM,
                ""));
        Files.writeString(dir.resolve("kdc.conf"), String.join("\n",
                "[kdcdefaults]",
                "  kdc_listen = 127.0.0.1:" + port,
                "  kdc_tcp_listen = 127.0.0.1:" + port,
                "[realms]",
                "  " + REALM + " = {",
                "    database_name = " + dir.resolve("principal"),
                "    key_stash_file = " + dir.resolve("stash"),
                "    acl_file = " + dir.resolve("kadm5.acl"),
                "    max_life = 10h",
                "    supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal",
                "  }",
                "[logging]",
                "  kdc = FILE:" + dir.resolve("kdc.log"),
                ""));
        Files.writeString(dir.resolve("kadm5.acl"), "");
        run(dir, "/usr/sbin/kdb5_util", "create", "-s", "-r", REALM, "-P", "test-master-key");
        ProcessBuilder pb = new ProcessBuilder(krb5kdc.toString(), "-n", "-r", REALM).directory(dir.toFile())
                .redirectErrorStream(true).redirectOutput(dir.resolve("krb5kdc.out").toFile());
        env(pb, dir);
        Process p = pb.start();
        KerberosRealm realm = new KerberosRealm(dir, port, p);
        try {
            Awaitility.await().atMost(START_LIMIT).pollInterval(Duration.ofMillis(50)).until(() -> !p.isAlive() || LoopbackPorts.accepts(port));
        } catch (ConditionTimeoutException e) {
            realm.close();
            throw new IOException("krb5kdc did not listen on 127.0.0.1:" + port + " within " + START_LIMIT);
        }
        if (!p.isAlive()) {
            String out = Files.readString(dir.resolve("krb5kdc.out"));
            realm.close();
            throw new IOException("krb5kdc exited: " + out);
        }
        return realm;
    }

    public Path krb5Conf() { return dir.resolve("krb5.conf"); }

    public Path dir() { return dir; }

    /** Adds {@code name@REALM} with a random key ({@code maxLife} like "20 seconds", or null) and exports it to a keytab. */
    public Path principal(String name, String maxLife) throws IOException, InterruptedException {
        String life = maxLife == null ? "" : " -maxlife \"" + maxLife + "\"";
        kadmin("addprinc -randkey" + life + " " + name + "@" + REALM);
        return keytab(name);
    }

    /** Exports a fresh key for {@code name} into a new keytab: older keytabs of it stop working (a new kvno). */
    public Path keytab(String name) throws IOException, InterruptedException {
        Path kt = dir.resolve(name.replace('/', '_') + "-" + System.nanoTime() + ".keytab");
        kadmin("ktadd -k " + kt + " " + name + "@" + REALM);
        Files.setPosixFilePermissions(kt, PosixFilePermissions.fromString("rw-r--r--"));
        return kt;
    }

    /** Sets the maximum ticket life of the ticket-granting service too, so a client's short max life is what it gets. */
    public void maxLife(String name, String maxLife) throws IOException, InterruptedException {
        kadmin("modprinc -maxlife \"" + maxLife + "\" " + name + "@" + REALM);
    }

    public String kdcLog() {
        try {
            return Files.readString(dir.resolve("kdc.log"));
        } catch (IOException e) {
            return e.toString();
        }
    }

    private void kadmin(String query) throws IOException, InterruptedException {
        run(dir, "/usr/sbin/kadmin.local", "-r", REALM, "-q", query);
    }

    private static void run(Path dir, String... cmd) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true);
        env(pb, dir);
        Process p = pb.start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException(String.join(" ", cmd) + " failed: " + new String(out, StandardCharsets.UTF_8));
        }
    }

    private static void env(ProcessBuilder pb, Path dir) {
        pb.environment().put("KRB5_CONFIG", dir.resolve("krb5.conf").toString());
        pb.environment().put("KRB5_KDC_PROFILE", dir.resolve("kdc.conf").toString());
    }

    private static Path require(String path) {
        Path p = Path.of(path);
        if (Files.isExecutable(p)) return p;
        String message = path + " not found: " + INSTALL;
        if ("1".equals(System.getenv("EGRESS_REQUIRE_KERBEROS"))) Assertions.fail(message + " (EGRESS_REQUIRE_KERBEROS=1)");
        org.junit.jupiter.api.Assumptions.abort(message);
        return null;
    }

    @Override
    public void close() {
        kdc.destroy();
        try {
            if (!kdc.waitFor(5, TimeUnit.SECONDS)) kdc.destroyForcibly();
        } catch (InterruptedException e) {
            kdc.destroyForcibly();
            Thread.currentThread().interrupt();
        }
        try (var files = Files.walk(dir)) {
            for (Path f : files.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(f);
        } catch (IOException ignored) {
            // best effort
        }
    }

}
