package io.modelegress.server.proxy;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import io.modelegress.server.testing.Http;
import io.modelegress.server.testing.Sidecar;
import io.modelegress.server.testing.TestUpstream;
import io.modelegress.server.testing.TunnelProxy;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code proxy.pac} end to end: the file's answer (a failover list) decides the route, DIRECT goes direct, a file
 * served over HTTP and changed is picked up at the next refresh, a script that loops forever fails the request with
 * {@code proxy_pac_failed} within its time limit, and a fetch that fails is reported while the last good file stays.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ProxyPacTest {
    @TempDir
    Path dir;

    static String config(String pac, String extra, int upstreamPort) throws Exception {
        return "proxy: { use_environment: false, pac: \"" + pac + "\", pac_refresh: 1s, pac_timeout: 300ms" + extra + " }\n"
                + "tls: { ca_bundle: \"" + ProxyFailoverTest.caBundle + "\" }\n"
                + "dns: { hosts: { api.test: 127.0.0.1 } }\n"
                + "retry: { max_attempts: 1 }\n"
                + "upstreams:\n  api: { url: \"https://api.test:" + upstreamPort + "\", pool: { max_idle: 0 } }\n"
                + "routes:\n  - { name: api, prefix: /api, upstreams: [api] }\n";
    }

    static String pac(String body) {
        return "function FindProxyForURL(url, host) {\n" + body + "\n}\n";
    }

    @Test
    void aPacFailoverListIsTriedInOrderAndExplainSaysWhichEntryWasUsed() throws Exception {
        ProxyFailoverTest.certificates();
        int refused = ProxyFailoverTest.refusedPort();
        try (TestUpstream api = new TestUpstream(ProxyFailoverTest.upstreamTls); TunnelProxy good = new TunnelProxy()) {
            api.script(TestUpstream.json(200, "{\"via\":\"pac\"}"));
            Path file = Files.writeString(dir.resolve("proxy.pac"), pac(
                    "if (dnsDomainIs(host, \".test\") && shExpMatch(url, \"https://*\"))"
                    + " return \"PROXY 127.0.0.1:" + refused + "; PROXY 127.0.0.1:" + good.port() + "; DIRECT\";\n"
                    + "return \"DIRECT\";"));
            try (Sidecar s = Sidecar.start(config(file.toUri().toString(), "", api.port()))) {
                HttpResponse<String> r = Http.get(s.url() + "/api/v1/models");
                assertEquals(200, r.statusCode(), r.body());
                assertEquals(1, good.connects(), "the second PAC entry carried it");
                String explained = Http.get(s.adminUrl() + "/debug/proxy?url=https://api.test:" + api.port()).body();
                assertTrue(explained.contains("returned \\\"PROXY 127.0.0.1:" + refused), explained);
                assertTrue(explained.contains("\"used\" : \"PAC \\\"PROXY 127.0.0.1:" + good.port() + "\\\"\""), explained);
                assertTrue(explained.contains("\"location\" : \"" + file.toUri()), explained);
            }
        }
    }

    @Test
    void aPacThatSaysDirectGoesDirect() throws Exception {
        ProxyFailoverTest.certificates();
        try (TestUpstream api = new TestUpstream(ProxyFailoverTest.upstreamTls)) {
            api.script(TestUpstream.json(200, "{}"));
            Path file = Files.writeString(dir.resolve("direct.pac"), pac("return isPlainHostName(host) ? \"PROXY x:1\" : \"DIRECT\";"));
            try (Sidecar s = Sidecar.start(config(file.toUri().toString(), "", api.port()))) {
                assertEquals(200, Http.get(s.url() + "/api/v1/models").statusCode());
            }
        }
    }

    @Test
    void aPacServedOverHttpAndChangedIsPickedUpAtTheNextRefresh() throws Exception {
        ProxyFailoverTest.certificates();
        AtomicReference<String> served = new AtomicReference<>(pac("return \"DIRECT\";"));
        HttpServer wpad = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        wpad.createContext("/wpad.dat", ex -> {
            byte[] body = served.get().getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().add("Content-Type", "application/x-ns-proxy-autoconfig");
            ex.sendResponseHeaders(200, body.length);
            ex.getResponseBody().write(body);
            ex.close();
        });
        wpad.start();
        try (TestUpstream api = new TestUpstream(ProxyFailoverTest.upstreamTls); TunnelProxy proxy = new TunnelProxy()) {
            api.script(TestUpstream.json(200, "{}"));
            String url = "http://127.0.0.1:" + wpad.getAddress().getPort() + "/wpad.dat";
            try (Sidecar s = Sidecar.start(config(url, "", api.port()))) {
                assertEquals(200, Http.get(s.url() + "/api/v1/models").statusCode());
                assertEquals(0, proxy.connects());
                served.set(pac("return \"PROXY 127.0.0.1:" + proxy.port() + "\";"));
                await().atMost(Duration.ofSeconds(15)).until(() -> Http.get(s.adminUrl() + "/debug/proxy?url=https://api.test:"
                        + api.port()).body().contains("PROXY 127.0.0.1:" + proxy.port()));
                assertEquals(200, Http.get(s.url() + "/api/v1/models").statusCode());
                assertEquals(1, proxy.connects(), "the changed PAC file sent it through the proxy");

                // The server goes away: the fetch fails, is reported, and the last good file stays in force.
                wpad.stop(0);
                await().atMost(Duration.ofSeconds(15)).until(() -> Http.get(s.adminUrl() + "/debug/proxy?url=https://api.test:"
                        + api.port()).body().contains("last_error"));
                String explained = Http.get(s.adminUrl() + "/debug/proxy?url=https://api.test:" + api.port()).body();
                assertTrue(explained.contains("the last good file stays in force"), explained);
                assertEquals(200, Http.get(s.url() + "/api/v1/models").statusCode());
                assertEquals(2, proxy.connects());
            }
        } finally {
            wpad.stop(0);
        }
    }

    @Test
    void aPacThatLoopsForeverFailsTheRequestWithinItsTimeLimit() throws Exception {
        ProxyFailoverTest.certificates();
        try (TestUpstream api = new TestUpstream(ProxyFailoverTest.upstreamTls)) {
            Path file = Files.writeString(dir.resolve("loop.pac"), pac("while (true) {}"));
            try (Sidecar s = Sidecar.start(config(file.toUri().toString(), "", api.port()))) {
                long t0 = System.nanoTime();
                HttpResponse<String> r = Http.get(s.url() + "/api/v1/models");
                long ms = (System.nanoTime() - t0) / 1_000_000;
                assertEquals(502, r.statusCode(), r.body());
                assertEquals("proxy_pac_failed", r.headers().firstValue("x-egress-error").orElse(""));
                assertTrue(r.body().contains("loop.pac") && r.body().contains("proxy.pac_timeout"), r.body());
                assertTrue(ms < 10_000, "took " + ms + "ms with pac_timeout 300ms");
                assertEquals(0, api.accepted());
            }
        }
    }

    @Test
    void aPacFileThatCannotBeFetchedFailsRequestsWithTheReasonUntilItAppears() throws Exception {
        ProxyFailoverTest.certificates();
        try (TestUpstream api = new TestUpstream(ProxyFailoverTest.upstreamTls)) {
            api.script(TestUpstream.json(200, "{}"));
            Path file = dir.resolve("late.pac");
            try (Sidecar s = Sidecar.start(config(file.toUri().toString(), "", api.port()))) {
                HttpResponse<String> r = Http.get(s.url() + "/api/v1/models");
                assertEquals("proxy_pac_failed", r.headers().firstValue("x-egress-error").orElse(""), r.body());
                assertTrue(r.body().contains("no PAC file loaded") && r.body().contains("late.pac"), r.body());
                Files.writeString(file, pac("return \"DIRECT\";"));
                await().atMost(Duration.ofSeconds(15)).until(() -> Http.get(s.url() + "/api/v1/models").statusCode() == 200);
            }
        }
    }
}
