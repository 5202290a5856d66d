package io.modelegress.server.proxy;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.modelegress.server.testing.AccessLogCapture;
import io.modelegress.server.testing.Http;
import io.modelegress.server.testing.KerberosRealm;
import io.modelegress.server.testing.Sidecar;
import io.modelegress.server.testing.SquidProxy;
import io.modelegress.server.testing.TestUpstream;
import io.modelegress.server.upstream.KerberosClient;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Negotiate (Kerberos/SPNEGO) to a real Squid checked by its negotiate_kerberos_auth helper, against a real MIT KDC
 * with a throwaway realm on loopback: CONNECT authenticated from a keytab (Squid sends no mutual-auth token on its
 * 200, and that works), a stale keytab answered as proxy_auth_required with the likely cause, and a ticket with a
 * short life renewed from the keytab before it runs out.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class NegotiateProxyTest {
    static KerberosRealm realm;
    static SquidProxy squid;
    static Path agentKeytab;
    static Path staleKeytab;
    static Path shortKeytab;
    static Path acceptorKeytab;

    @BeforeAll
    static void start() throws Exception {
        ProxyFailoverTest.certificates();
        realm = KerberosRealm.start();
        Path httpKeytab = realm.principal("HTTP/localhost", null);
        staleKeytab = realm.principal("agent", null);
        agentKeytab = realm.keytab("agent"); // a new key version: staleKeytab no longer matches the KDC
        shortKeytab = realm.principal("short", "20 seconds");
        acceptorKeytab = realm.principal("HTTP/acceptor.test", null);
        squid = SquidProxy.startNegotiate(httpKeytab, realm.krb5Conf(), "HTTP/localhost@" + KerberosRealm.REALM, "api.test");
    }

    @AfterAll
    static void stop() {
        if (squid != null) squid.close();
        if (realm != null) realm.close();
    }

    static String config(String principal, Path keytab, int upstreamPort) {
        return "proxy: { use_environment: false, https: \"http://localhost:" + squid.port() + "\","
                + " auth: { scheme: negotiate, principal: \"" + principal + "@" + KerberosRealm.REALM + "\", keytab: \"" + keytab + "\" } }\n"
                + "tls: { ca_bundle: \"" + ProxyFailoverTest.caBundle + "\" }\n"
                + "dns: { hosts: { localhost: 127.0.0.1 } }\n"
                + "retry: { max_attempts: 1 }\n"
                + "upstreams:\n  api: { url: \"https://api.test:" + upstreamPort + "\", pool: { max_idle: 0 } }\n"
                + "routes:\n  - { name: api, prefix: /api, upstreams: [api] }\n";
    }

    static Map<String, String> env() {
        return Map.of("KRB5_CONFIG", realm.krb5Conf().toString());
    }

    static List<SquidProxy.Entry> tunnels(String hostPort) {
        return squid.accessLog().stream().filter(e -> e.method().equals("CONNECT") && e.url().equals(hostPort)
                && e.status().endsWith("/200")).toList();
    }

    @Test
    void tunnelsThroughSquidAuthenticatedByKerberos() throws Exception {
        try (TestUpstream api = new TestUpstream(ProxyFailoverTest.upstreamTls); AccessLogCapture log = new AccessLogCapture()) {
            api.script(TestUpstream.json(200, "{\"via\":\"kerberos\"}"));
            try (Sidecar s = Sidecar.start(config("agent", agentKeytab, api.port()), env())) {
                HttpResponse<String> r = Http.get(s.url() + "/api/v1/models");
                assertEquals(200, r.statusCode(), r.body() + "\nKDC log:\n" + realm.kdcLog() + "\nsquid:\n" + squid.cacheLog());
                assertEquals("{\"via\":\"kerberos\"}", r.body());
                await().atMost(Duration.ofSeconds(5)).until(() -> log.lines().stream().anyMatch(l -> l.contains("\"proxy_auth\":\"negotiate\"")));
            }
            String target = "api.test:" + api.port();
            squid.awaitAccessLog(Duration.ofSeconds(10), l -> !tunnels(target).isEmpty());
            SquidProxy.Entry tunnel = tunnels(target).get(0);
            assertEquals("agent@" + KerberosRealm.REALM, tunnel.user(), tunnel.line());
        }
    }

    /** The proxy side of SPNEGO with the JDK as acceptor (HTTP/localhost's keytab): the reply token for mutual auth. */
    static String acceptorReply(String authorization, Path httpKeytab) throws Exception {
        java.util.Map<String, Object> opts = new java.util.HashMap<>(java.util.Map.of("useKeyTab", "true", "keyTab", httpKeytab.toString(),
                "principal", "HTTP/acceptor.test@" + KerberosRealm.REALM, "storeKey", "true", "isInitiator", "false",
                "doNotPrompt", "true", "refreshKrb5Config", "true"));
        var entry = new javax.security.auth.login.AppConfigurationEntry("com.sun.security.auth.module.Krb5LoginModule",
                javax.security.auth.login.AppConfigurationEntry.LoginModuleControlFlag.REQUIRED, opts);
        var lc = new javax.security.auth.login.LoginContext("acceptor", new javax.security.auth.Subject(), null,
                new javax.security.auth.login.Configuration() {
                    @Override
                    public javax.security.auth.login.AppConfigurationEntry[] getAppConfigurationEntry(String n) {
                        return new javax.security.auth.login.AppConfigurationEntry[] {entry};
                    }
                });
        lc.login();
        byte[] in = java.util.Base64.getDecoder().decode(authorization.substring("Negotiate ".length()));
        byte[] out = javax.security.auth.Subject.doAs(lc.getSubject(), (java.security.PrivilegedExceptionAction<byte[]>) () -> {
            var m = org.ietf.jgss.GSSManager.getInstance();
            var cred = m.createCredential(null, org.ietf.jgss.GSSCredential.INDEFINITE_LIFETIME,
                    new org.ietf.jgss.Oid("1.3.6.1.5.5.2"), org.ietf.jgss.GSSCredential.ACCEPT_ONLY);
            return m.createContext(cred).acceptSecContext(in, 0, in.length);
        });
        return java.util.Base64.getEncoder().encodeToString(out);
    }

    @Test
    void aMutualAuthReplyIsCheckedWhenTheProxySendsOne() throws Exception {
        // The test acceptor has a service principal of its own, named with proxy.auth.spn (Squid's keytab is untouched).
        try (TestUpstream api = new TestUpstream(ProxyFailoverTest.upstreamTls); io.modelegress.server.testing.TunnelProxy proxy = new io.modelegress.server.testing.TunnelProxy()) {
            api.script(TestUpstream.json(200, "{}"));
            String cfg = config("agent", agentKeytab, api.port()).replace("http://localhost:" + squid.port(), "http://localhost:" + proxy.port())
                    .replace(agentKeytab + "\" } }", agentKeytab + "\", spn: \"HTTP/acceptor.test@" + KerberosRealm.REALM + "\" } }");
            proxy.okHeaders(head -> {
                try {
                    return "Proxy-Authenticate: Negotiate " + acceptorReply(head.get("proxy-authorization"), acceptorKeytab) + "\r\n";
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            try (Sidecar s = Sidecar.start(cfg, env())) {
                HttpResponse<String> r = Http.get(s.url() + "/api/v1/models");
                assertEquals(200, r.statusCode(), r.body());
                assertTrue(proxy.heads().get(0).get("proxy-authorization").startsWith("Negotiate "));
            }
            // A reply that does not verify fails the connection: someone other than the proxy answered.
            proxy.okHeaders(head -> "Proxy-Authenticate: Negotiate oYGyMIGvoAMKAQChCwYJKoZIhvcSAQICooGaBIGXYIGUBgkqhkiG9xIBAgICAG+BhDCBgaADAgEFoQMCAQ+idTBzoAMCARKibARqqqqq\r\n");
            try (Sidecar s = Sidecar.start(cfg, env())) {
                HttpResponse<String> r = Http.get(s.url() + "/api/v1/models");
                assertEquals(502, r.statusCode(), r.body());
                assertEquals("proxy_auth_required", r.headers().firstValue("x-egress-error").orElse(""));
                assertTrue(r.body().contains("mutual authentication"), r.body());
            }
        }
    }

    @Test
    void aStaleKeytabIsProxyAuthRequiredWithTheLikelyCause() throws Exception {
        try (TestUpstream api = new TestUpstream(ProxyFailoverTest.upstreamTls)) {
            try (Sidecar s = Sidecar.start(config("agent", staleKeytab, api.port()), env())) {
                HttpResponse<String> r = Http.get(s.url() + "/api/v1/models");
                assertEquals(502, r.statusCode(), r.body());
                assertEquals("proxy_auth_required", r.headers().firstValue("x-egress-error").orElse(""));
                assertTrue(r.body().contains("keytab") && r.body().contains("likely cause"), r.body());
                assertEquals(0, api.accepted());
            }
        }
    }

    @Test
    void doctorReportsNegotiateAndNamesTheLikelyCauseOfAStaleKeytab(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        try (TestUpstream api = new TestUpstream(ProxyFailoverTest.upstreamTls)) {
            api.script(TestUpstream.json(200, "{\"data\":[]}"));
            Path good = java.nio.file.Files.writeString(dir.resolve("good.yaml"), config("agent", agentKeytab, api.port()));
            var ok = io.modelegress.server.cli.MainTestAccess.run(env(), "doctor", "--config", good.toString());
            assertEquals(0, ok.code(), ok.out() + ok.err());
            assertTrue(ok.out().contains("auth negotiate") && ok.out().contains("authenticated with negotiate"), ok.out());
            Path stale = java.nio.file.Files.writeString(dir.resolve("stale.yaml"), config("agent", staleKeytab, api.port()));
            var bad = io.modelegress.server.cli.MainTestAccess.run(env(), "doctor", "--config", stale.toString());
            assertEquals(1, bad.code(), bad.out());
            assertTrue(bad.out().contains("hint:") && bad.out().contains("likely cause: the keytab's key does not match"), bad.out());
        }
    }

    @Test
    void theTicketCacheNamedByKrb5ccnameIsUsedWithoutAKeytab(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Path cache = dir.resolve("ccache");
        ProcessBuilder kinit = new ProcessBuilder("kinit", "-k", "-t", agentKeytab.toString(), "-c", "FILE:" + cache,
                "agent@" + KerberosRealm.REALM).redirectErrorStream(true);
        kinit.environment().put("KRB5_CONFIG", realm.krb5Conf().toString());
        Process p = kinit.start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0, "kinit: " + out);
        try (TestUpstream api = new TestUpstream(ProxyFailoverTest.upstreamTls)) {
            api.script(TestUpstream.json(200, "{}"));
            String cfg = config("agent", agentKeytab, api.port()).replace("principal: \"agent@" + KerberosRealm.REALM
                    + "\", keytab: \"" + agentKeytab + "\"", "principal: \"agent@" + KerberosRealm.REALM + "\"");
            Map<String, String> env = Map.of("KRB5_CONFIG", realm.krb5Conf().toString(), "KRB5CCNAME", "FILE:" + cache);
            try (Sidecar s = Sidecar.start(cfg, env)) {
                HttpResponse<String> r = Http.get(s.url() + "/api/v1/models");
                assertEquals(200, r.statusCode(), r.body());
            }
        }
    }

    @org.junit.jupiter.params.ParameterizedTest(name = "[{index}] {0}")
    @org.junit.jupiter.params.provider.CsvSource(delimiter = '|', textBlock = """
            missing SPN | agent@EGRESS.TEST | spn: "HTTP/nowhere.test@EGRESS.TEST" | missing SPN
            wrong realm | agent@WRONG.REALM |                                    | no key for the principal: the keytab holds none for proxy.auth.principal (a wrong realm
            """)
    void doctorNamesTheLikelyKerberosCause(String what, String principal, String extra, String hint,
                                           @org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        try (TestUpstream api = new TestUpstream(ProxyFailoverTest.upstreamTls)) {
            String cfg = config("agent", agentKeytab, api.port()).replace("\"agent@" + KerberosRealm.REALM + "\"", "\"" + principal + "\"");
            if (extra != null) cfg = cfg.replace(agentKeytab + "\" } }", agentKeytab + "\", " + extra + " } }");
            Path f = java.nio.file.Files.writeString(dir.resolve("egress.yaml"), cfg);
            var r = io.modelegress.server.cli.MainTestAccess.run(env(), "doctor", "--config", f.toString());
            assertEquals(1, r.code(), r.out());
            assertTrue(r.out().contains("hint:") && r.out().contains("likely cause: " + hint), what + ":\n" + r.out());
        }
    }

    @Test
    void aShortLivedTicketIsRenewedFromTheKeytabBeforeItRunsOut() throws Exception {
        try (TestUpstream api = new TestUpstream(ProxyFailoverTest.upstreamTls)) {
            api.script(TestUpstream.json(200, "{}"));
            try (Sidecar s = Sidecar.start(config("short", shortKeytab, api.port()), env())) {
                assertEquals(200, Http.get(s.url() + "/api/v1/models").statusCode());
                KerberosClient krb = s.server.runtime().proxies().kerberos();
                assertEquals(1, krb.logins());
                Instant end = krb.ticketEnd();
                assertTrue(Duration.between(Instant.now(), end).toSeconds() <= 20, "ticket ends at " + end);
                // Within the last quarter of its life the ticket is due: the next connection logs in again first.
                await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
                        .until(() -> Instant.now().isAfter(end.minusSeconds(4)));
                assertEquals(200, Http.get(s.url() + "/api/v1/models").statusCode());
                assertEquals(2, krb.logins(), "renewed from the keytab");
                assertTrue(krb.ticketEnd().isAfter(end), "a new ticket: " + krb.ticketEnd() + " after " + end);
            }
        }
    }
}
