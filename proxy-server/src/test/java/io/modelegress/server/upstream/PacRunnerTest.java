package io.modelegress.server.upstream;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import io.modelegress.core.config.ProxySettings;
import io.modelegress.core.proxy.ProxyDecision;
import io.modelegress.core.proxy.pac.PacHost;
import io.modelegress.server.metrics.EgressMetrics;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** {@code proxy.pac: wpad}: the candidates are tried in order and the first that answers is the PAC file. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class PacRunnerTest {
    @Test
    void wpadTakesTheFirstCandidateThatAnswersAndReportsTheOthers() throws Exception {
        int refused;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            refused = s.getLocalPort();
        }
        HttpServer wpad = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        wpad.createContext("/wpad.dat", ex -> {
            byte[] body = "function FindProxyForURL(u, h) { return 'PROXY found.by.wpad:8080'; }".getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(200, body.length);
            ex.getResponseBody().write(body);
            ex.close();
        });
        wpad.start();
        String second = "http://127.0.0.1:" + wpad.getAddress().getPort() + "/wpad.dat";
        ProxySettings settings = ProxySettings.none().withPac("wpad");
        try (PacRunner runner = new PacRunner(settings, PacHost.SYSTEM, new EgressMetrics(),
                List.of("http://127.0.0.1:" + refused + "/wpad.dat", second))) {
            runner.refreshNow().get(20, TimeUnit.SECONDS);
            ProxyDecision d = runner.decide("https", "api.openai.com", 443).get(10, TimeUnit.SECONDS);
            assertEquals("http://found.by.wpad:8080", d.proxy().masked());
            assertTrue(d.reason().contains(second), d.reason());
            await().atMost(Duration.ofSeconds(5)).until(() -> runner.status().loaded());
        } finally {
            wpad.stop(0);
        }
    }
}
