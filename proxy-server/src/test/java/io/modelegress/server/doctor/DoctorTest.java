package io.modelegress.server.doctor;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.modelegress.server.cli.MainTestAccess;
import io.modelegress.server.testing.BlackHole;
import io.modelegress.server.testing.FaultServer;
import io.modelegress.server.testing.Http;
import io.modelegress.server.testing.RawHttp;
import io.modelegress.server.testing.Sidecar;
import io.modelegress.server.testing.TestConfig;
import io.modelegress.server.testing.TestUpstream;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.pkitesting.CertificateBuilder;
import io.netty.pkitesting.X509Bundle;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** doctor as an operator runs it: through the CLI (exit codes, table, JSON) and the admin port. */
class DoctorTest {
    @TempDir
    Path dir;

    private MainTestAccess.Result doctor(TestConfig config, Map<String, String> env, String... extra) throws Exception {
        return doctorFile(config.ignoreEnvironmentProxy().yaml(), env, extra);
    }

    /** {@code yaml} as written, for the tests of a file the loader cannot read. */
    private MainTestAccess.Result doctor(String yaml, Map<String, String> env, String... extra) throws Exception {
        return doctorFile("proxy: { use_environment: false }\n" + yaml, env, extra);
    }

    private MainTestAccess.Result doctorFile(String yaml, Map<String, String> env, String... extra) throws Exception {
        Path f = Files.writeString(dir.resolve("egress.yaml"), yaml);
        String[] args = new String[extra.length + 3];
        args[0] = "doctor";
        args[1] = "--config";
        args[2] = f.toString();
        System.arraycopy(extra, 0, args, 3, extra.length);
        return MainTestAccess.run(env, args);
    }

    @Test
    void aHealthyTlsUpstreamPassesEveryStepWithCertificateDetails() throws Exception {
        X509Bundle ca = new CertificateBuilder().subject("CN=doctor CA").setIsCertificateAuthority(true)
                .algorithm(CertificateBuilder.Algorithm.ecp256).buildSelfSigned();
        X509Bundle leaf = new CertificateBuilder().subject("CN=localhost").addSanDnsName("localhost")
                .algorithm(CertificateBuilder.Algorithm.ecp256).buildIssuedBy(ca);
        Files.writeString(dir.resolve("ca.pem"), ca.getCertificatePEM());
        try (TestUpstream up = new TestUpstream(SslContextBuilder.forServer(leaf.toKeyManagerFactory()).build())) {
            up.script(TestUpstream.json(200, "{\"data\":[]}"));
            MainTestAccess.Result r = doctor(TestConfig.config().set("tls.ca_bundle", dir.resolve("ca.pem"))
                    .upstream("secure", "https://localhost:" + up.port(), u -> u.auth("Authorization", "Bearer ${KEY}"))
                    .route("r", "/v1", "secure"), Map.of("KEY", "sk-doctor"));
            assertEquals(0, r.code(), r.out() + r.err());
            for (String step : new String[] {"proxy    ok", "dns      ok", "tcp      ok", "tls      ok", "http     ok"}) {
                assertTrue(r.out().contains(step), step + " in:\n" + r.out());
            }
            assertTrue(r.out().contains("certificate CN=localhost issued by CN=doctor CA"), r.out());
            assertTrue(r.out().contains("GET /v1/models -> 200 OK"), r.out());
            assertEquals("Bearer sk-doctor", up.take().header("authorization"), "the probe carries the real credential");
            assertFalse(r.out().contains("sk-doctor"));
        }
    }

    @Test
    void anUpstreamThatOffersH2IsCheckedOverHttp1() throws Exception {
        try (io.modelegress.server.testing.H2Upstream up = new io.modelegress.server.testing.H2Upstream(dir, true, 0)) {
            up.script(r -> r.json(200, "{\"data\":[]}"));
            MainTestAccess.Result r = doctor(TestConfig.config().set("tls.ca_bundle", up.caBundle().toString())
                    .upstream("h2", up.url()).route("r", "/v1", "h2"), Map.of());
            assertEquals(0, r.code(), r.out() + r.err());
            assertTrue(r.out().contains("GET /v1/models -> 200 OK"), r.out());
            assertEquals("h1", up.take().protocol(), "the doctor's steps write HTTP/1.1 on the connection itself");
        }
    }

    @Test
    void a401MeansTheNetworkWorksAndTheKeyDoesNot() throws Exception {
        try (TestUpstream up = new TestUpstream()) {
            up.script(TestUpstream.json(401, "{\"error\":{\"message\":\"Incorrect API key\"}}"));
            MainTestAccess.Result r = doctor(TestConfig.config()
                    .upstream("openai", up.url(), u -> u.auth("Authorization", "Bearer ${OPENAI_API_KEY}"))
                    .route("r", "/v1", "openai"), Map.of("OPENAI_API_KEY", "sk-wrong"));
            assertEquals(1, r.code());
            assertTrue(r.out().contains("the network path works; the credential was refused"), r.out());
            assertTrue(r.out().contains("hint: 401 from 127.0.0.1: the network works, the key does not; check the credential of upstream \"openai\" (Authorization value from ${OPENAI_API_KEY})"), r.out());
        }
    }

    @Test
    void a407FromTheProxyGetsTheCredentialsHint() throws Exception {
        try (FaultServer proxy = FaultServer.replying("HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n")) {
            MainTestAccess.Result r = doctor(TestConfig.config()
                    .upstream("openai", "https://api.example.test", u -> u.proxy("http://127.0.0.1:" + proxy.port()))
                    .route("r", "/v1", "openai"), Map.of(), "--json");
            assertEquals(1, r.code());
            assertTrue(r.out().startsWith("{\"ok\":false,"), r.out());
            assertTrue(r.out().contains("\"step\":\"connect\",\"status\":\"fail\""), r.out());
            assertTrue(r.out().contains("\"hint\":\"407 from 127.0.0.1:" + proxy.port() + "; set proxy credentials (proxy.https or HTTPS_PROXY user:pass)\""), r.out());
        }
    }

    @Test
    void aBlackHoleFailsAtTheConnectLimitSoDoctorNeverHangs() throws Exception {
        try (BlackHole hole = new BlackHole()) {
            long t0 = System.nanoTime();
            MainTestAccess.Result r = doctor("timeouts: { connect: 300ms }\nupstreams:\n  x:\n    url: http://127.0.0.1:" + hole.port()
                    + "\nroutes:\n  - { name: r, prefix: /v1, upstreams: [x] }\n", Map.of());
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertEquals(1, r.code());
            assertTrue(r.out().contains("[upstream_connect_timeout] connect to 127.0.0.1:" + hole.port()), r.out());
            assertTrue(ms < 5000, "doctor took " + ms + "ms");
        }
    }

    @Test
    void routeFilterAndBadConfigExitCodes() throws Exception {
        try (TestUpstream a = new TestUpstream()) {
            TestConfig yaml = TestConfig.config().upstream("a", a.url()).upstream("dead", "http://127.0.0.1:1")
                    .route("ra", "/v1", "a").route("rd", "/d", "dead");
            assertEquals(1, doctor(yaml, Map.of()).code(), "the dead upstream fails the whole run");
            MainTestAccess.Result only = doctor(yaml, Map.of(), "--route", "ra");
            assertEquals(0, only.code(), only.out());
            assertFalse(only.out().contains("upstream dead"));
            assertEquals(2, doctor(yaml, Map.of(), "--route", "nope").code());
            assertEquals(2, doctor("upstreams: [", Map.of()).code());
        }
    }

    @Test
    void theAdminPortServesTheSameReport() throws Exception {
        try (TestUpstream up = new TestUpstream(); Sidecar s = TestConfig.config()
                .upstream("up", up.url()).route("r", "/v1", "up").start()) {
            var r = Http.get(s.adminUrl() + "/debug/doctor");
            assertEquals(200, r.statusCode());
            assertTrue(r.body().contains("\"ok\" : true"), r.body());
            assertTrue(r.body().contains("\"step\" : \"http\""), r.body());
        }
    }

    @Test
    @Timeout(60)
    void concurrentAdminCallsShareOneRunOnOneThreadAndGetTheSameReport() throws Exception {
        // The upstream holds every probe until the test lets go, so all callers arrive while a run is under way.
        List<Runnable> held = new CopyOnWriteArrayList<>();
        try (TestUpstream up = new TestUpstream(); Sidecar s = TestConfig.config()
                .upstream("up", up.url()).route("r", "/v1", "up").start()) {
            int callers = 50;
            List<RawHttp> conns = new ArrayList<>();
            try {
                // Warm up what starts lazily (every event loop, the doctor thread), so only growth per caller counts.
                for (int i = 0; i < 2 * Runtime.getRuntime().availableProcessors() + 2; i++) {
                    conns.add(new RawHttp(s.server.adminAddress().getPort()));
                }
                for (RawHttp c : conns) assertEquals(200, c.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").read().status());
                assertEquals(200, conns.get(0).send("GET /debug/doctor HTTP/1.1\r\nHost: x\r\n\r\n").read().status());
                up.take();
                up.script((ctx, req) -> held.add(() -> TestUpstream.json(200, "{\"data\":[]}").answer(ctx, req)));
                for (RawHttp c : conns) c.close();
                conns.clear();
                ThreadMXBean threads = ManagementFactory.getThreadMXBean();
                int before = threads.getThreadCount();
                for (int i = 0; i < callers; i++) {
                    conns.add(new RawHttp(s.server.adminAddress().getPort()).send("GET /debug/doctor HTTP/1.1\r\nHost: x\r\n\r\n"));
                }
                // Every call has been taken up: each joined the run (or, unbounded, started its own probe).
                await().atMost(Duration.ofSeconds(20)).until(() -> up.receivedCount() >= callers
                        || s.server.metrics().scrape().contains("egress_doctor_calls_total{run=\"shared\"} " + (callers - 1) + ".0"));
                int during = threads.getThreadCount();
                assertTrue(during - before <= 3, "threads grew from " + before + " to " + during + ": "
                        + Thread.getAllStackTraces().keySet().stream().map(Thread::getName).sorted().toList());
                assertEquals(1, up.receivedCount(), "one probe for all " + callers + " callers");
                held.forEach(Runnable::run);
                String first = null;
                for (RawHttp c : conns) {
                    RawHttp.Response r = c.read();
                    assertEquals(200, r.status(), r.body());
                    if (first == null) first = r.body();
                    assertEquals(first, r.body(), "every caller gets the report of the one run");
                }
                assertTrue(first.contains("\"ok\" : true"), first);
                assertTrue(s.server.metrics().scrape().contains("egress_doctor_calls_total{run=\"started\"} 2.0"), "the warm-up run and the shared one");
            } finally {
                for (RawHttp c : conns) c.close();
            }
        }
    }

    @Test
    void anUnknownRouteOnTheAdminPortIsABadRequestNotARun() throws Exception {
        try (TestUpstream up = new TestUpstream(); Sidecar s = TestConfig.config()
                .upstream("up", up.url()).route("r", "/v1", "up").start()) {
            var r = Http.get(s.adminUrl() + "/debug/doctor?route=nope");
            assertEquals(400, r.statusCode(), r.body());
            assertTrue(r.body().contains("no route named \\\"nope\\\" (routes: r)"), r.body());
            assertEquals(0, up.receivedCount());
        }
    }
}
