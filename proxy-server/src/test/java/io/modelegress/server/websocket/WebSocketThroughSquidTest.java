package io.modelegress.server.websocket;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.modelegress.server.testing.Sidecar;
import io.modelegress.server.testing.SquidProxy;
import io.modelegress.server.testing.TestConfig;
import io.modelegress.server.testing.WebSocketUpstream;
import io.modelegress.server.testing.WsClient;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A WebSocket through a real Squid with basic auth: even a plain ws:// upstream, which an HTTP request would reach
 * in absolute-form, goes through a CONNECT tunnel, since a forward proxy cannot upgrade a connection for us.
 */
class WebSocketThroughSquidTest {
    static final String USER = "agent-svc";
    static final String PASSWORD = "s3cret-Squid-pw";

    @Test
    void tunnelsTheUpgradeThroughSquidWithConnect() throws Exception {
        try (SquidProxy squid = SquidProxy.start(USER, PASSWORD, "realtime.test");
             WebSocketUpstream up = new WebSocketUpstream()) {
            String proxy = squid.url(USER, PASSWORD);
            TestConfig c = TestConfig.config().ignoreEnvironmentProxy().set("proxy.http", proxy).set("proxy.https", proxy)
                    .upstream("openai", "http://realtime.test:" + up.port(), u -> u.auth("Authorization", "Bearer sk-real"))
                    .route("realtime", "/v1", r -> r.upstreams("openai").set("websocket", true));
            String target = "realtime.test:" + up.port();
            try (Sidecar s = c.start()) {
                WsClient ws = WsClient.open(URI.create("ws://127.0.0.1:" + s.port() + "/v1/realtime?model=gpt-realtime"),
                        Map.of("Authorization", "Bearer sk-dummy"));
                ws.socket.sendText("through squid", true).get();
                assertEquals("echo:through squid", ws.next());
                WebSocketUpstream.Upgrade got = up.take();
                assertEquals("Bearer sk-real", got.header("authorization"));
                assertNull(got.header("proxy-authorization"), "proxy credentials reached the upstream");
                assertEquals("/v1/realtime?model=gpt-realtime", got.uri(), "origin-form inside the tunnel");
                ws.socket.sendClose(1000, "done").get();
                assertEquals(1000, ws.closed(10).code());
            }
            // Squid logs a CONNECT when its tunnel closes.
            List<SquidProxy.Entry> log = squid.awaitAccessLog(Duration.ofSeconds(10), l -> l.stream()
                    .anyMatch(e -> e.method().equals("CONNECT") && e.url().equals(target)));
            SquidProxy.Entry connect = log.stream().filter(e -> e.method().equals("CONNECT") && e.url().equals(target)).findFirst().orElseThrow();
            assertEquals("TCP_TUNNEL/200", connect.status(), connect.line());
            assertEquals(USER, connect.user(), connect.line());
            assertFalse(log.stream().anyMatch(e -> e.url().startsWith("http://" + target)), "no absolute-form request: " + log);
        }
    }
}
