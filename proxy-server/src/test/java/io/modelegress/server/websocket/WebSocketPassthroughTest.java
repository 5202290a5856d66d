package io.modelegress.server.websocket;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.modelegress.server.testing.DeadPort;
import io.modelegress.server.testing.Http;
import io.modelegress.server.testing.Sidecar;
import io.modelegress.server.testing.TestConfig;
import io.modelegress.server.testing.WebSocketUpstream;
import io.modelegress.server.testing.WsClient;
import java.net.URI;
import java.net.http.WebSocketHandshakeException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.Test;

/**
 * WebSocket passthrough (OpenAI Realtime) on real loopback sockets: Java's own WebSocket client as the agent, a
 * Netty WebSocket server as the upstream, the sidecar between them.
 */
class WebSocketPassthroughTest {
    static final String REAL_KEY = "Bearer sk-real-upstream-key";

    static TestConfig config(String upstreamUrl, boolean websocket) {
        return TestConfig.config().ignoreEnvironmentProxy()
                .upstream("openai", upstreamUrl, u -> u.auth("Authorization", REAL_KEY))
                .route("realtime", "/v1", r -> r.upstreams("openai").set("websocket", websocket));
    }

    static URI ws(Sidecar s, String path) { return URI.create("ws://127.0.0.1:" + s.port() + path); }

    static final Map<String, String> DUMMY = Map.of("Authorization", "Bearer sk-dummy-agent-key");

    @Test
    void relaysTextAndBinaryFramesBothWaysWithTheUpstreamCredential() throws Exception {
        try (WebSocketUpstream up = new WebSocketUpstream().greeting("{\"type\":\"session.created\"}");
             Sidecar s = config("http://127.0.0.1:" + up.port(), true).start()) {
            WsClient c = WsClient.open(ws(s, "/v1/realtime?model=gpt-realtime"), DUMMY,
                    "realtime", "openai-insecure-api-key.sk-dummy");
            assertEquals("realtime", c.socket.getSubprotocol(), "the upstream's subprotocol choice reaches the agent");
            assertEquals("{\"type\":\"session.created\"}", c.next(), "a frame sent right behind the upstream's 101");
            c.socket.sendText("{\"type\":\"response.create\"}", true).get();
            assertEquals("echo:{\"type\":\"response.create\"}", c.next());
            byte[] audio = new byte[200_000];
            for (int i = 0; i < audio.length; i++) audio[i] = (byte) i;
            c.socket.sendBinary(ByteBuffer.wrap(audio), true).get();
            assertArrayEquals(audio, (byte[]) c.next());

            WebSocketUpstream.Upgrade got = up.take();
            assertEquals("/v1/realtime?model=gpt-realtime", got.uri());
            assertEquals(REAL_KEY, got.header("authorization"), "our credential injected on the upgrade");
            assertEquals("realtime", got.header("sec-websocket-protocol"), "the agent's key offered as a subprotocol is not forwarded");
            assertEquals("127.0.0.1:" + up.port(), got.header("host"));
            c.socket.sendClose(1000, "bye").get();
            assertEquals(new WsClient.Closed(1000, "bye"), c.closed(10));
        }
    }

    @Test
    void passesPingsAndPongsBothWaysWithTheirPayloads() throws Exception {
        try (WebSocketUpstream up = new WebSocketUpstream(); Sidecar s = config("http://127.0.0.1:" + up.port(), true).start()) {
            WsClient c = WsClient.open(ws(s, "/v1/realtime"), DUMMY);
            byte[] agentPing = "agent-ping-1".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            c.socket.sendPing(ByteBuffer.wrap(agentPing)).get();
            WebSocketUpstream.Control atUpstream = up.takeControl();
            assertEquals("ping", atUpstream.type(), "the agent's ping reaches the upstream as a ping, not answered by us");
            assertArrayEquals(agentPing, atUpstream.payload());
            assertArrayEquals(agentPing, c.nextPong(), "the upstream's pong comes back with the ping's payload");

            byte[] upstreamPing = new byte[] {0, 1, 2, (byte) 0xfe, (byte) 0xff};
            up.ping(upstreamPing);
            assertArrayEquals(upstreamPing, c.nextPing(), "the upstream's ping reaches the agent");
            WebSocketUpstream.Control answer = up.takeControl();
            assertEquals("pong", answer.type(), "the agent's automatic pong reaches the upstream");
            assertArrayEquals(upstreamPing, answer.payload());

            String metrics = Http.get(s.adminUrl() + "/metrics").body();
            assertTrue(metrics.contains("egress_websocket_frames_total{direction=\"to_upstream\",route=\"realtime\"} 2.0"), metrics);
            assertTrue(metrics.contains("egress_websocket_frames_total{direction=\"to_agent\",route=\"realtime\"} 2.0"), metrics);
            c.socket.sendClose(1000, "bye").get();
            assertEquals(new WsClient.Closed(1000, "bye"), c.closed(10));
        }
    }

    @Test
    void passesCloseCodesAndReasonsBothWays() throws Exception {
        try (WebSocketUpstream up = new WebSocketUpstream(); Sidecar s = config("http://127.0.0.1:" + up.port(), true).start()) {
            WsClient agentCloses = WsClient.open(ws(s, "/v1/realtime"), DUMMY);
            agentCloses.socket.sendClose(4001, "agent done").get();
            assertEquals(new WebSocketUpstream.Close(4001, "agent done"), up.takeClose());
            assertEquals(new WsClient.Closed(4001, "agent done"), agentCloses.closed(10));
        }
        try (WebSocketUpstream up = new WebSocketUpstream(); Sidecar s = config("http://127.0.0.1:" + up.port(), true).start()) {
            WsClient c = WsClient.open(ws(s, "/v1/realtime"), DUMMY);
            up.close(4002, "session expired");
            assertEquals(new WsClient.Closed(4002, "session expired"), c.closed(10));
            // The agent may hear the close a moment before the sidecar counts it: wait (bounded) for the count.
            String closeCount = "egress_websocket_closes_total{reason=\"upstream\",route=\"realtime\"} 1.0";
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5))
                    .until(() -> Http.get(s.adminUrl() + "/metrics").body().contains(closeCount));
        }
    }

    @Test
    void closesASocketQuietLongerThanWebsocketIdle() throws Exception {
        try (WebSocketUpstream up = new WebSocketUpstream();
             Sidecar s = config("http://127.0.0.1:" + up.port(), true).timeout("websocket_idle", Duration.ofMillis(500)).start()) {
            long begin = System.nanoTime();
            WsClient c = WsClient.open(ws(s, "/v1/realtime"), DUMMY);
            c.socket.sendText("one", true).get();
            assertEquals("echo:one", c.next());
            WsClient.Closed closed = c.closed(10);
            assertEquals(1001, closed.code());
            assertTrue(closed.reason().contains("timeouts.websocket_idle"), closed.reason());
            assertTrue(System.nanoTime() - begin >= Duration.ofMillis(500).toNanos(), "closed before the idle limit");
            assertEquals(1001, up.takeClose().code(), "the upstream is told too");
            String metrics = Http.get(s.adminUrl() + "/metrics").body();
            assertTrue(metrics.contains("egress_websocket_closes_total{reason=\"idle\",route=\"realtime\"} 1.0"), metrics);
            assertTrue(metrics.contains("egress_websocket_frames_total{direction=\"to_upstream\",route=\"realtime\"}"), metrics);
        }
    }

    @Test
    void closesWith1009AMessageOverTheLimit() throws Exception {
        try (WebSocketUpstream up = new WebSocketUpstream();
             Sidecar s = config("http://127.0.0.1:" + up.port(), true).server("websocket_max_message", "1KiB").start()) {
            WsClient c = WsClient.open(ws(s, "/v1/realtime"), DUMMY);
            c.socket.sendText("x".repeat(500), false).get();
            c.socket.sendText("y".repeat(600), true).get(); // two frames, one message of 1100 bytes
            WsClient.Closed closed = c.closed(10);
            assertEquals(1009, closed.code());
            assertTrue(closed.reason().contains("server.websocket_max_message"), closed.reason());
            assertEquals(1001, up.takeClose().code());
        }
    }

    @Test
    void answersAConnectFailureWithOurTypedError() throws Exception {
        try (DeadPort dead = new DeadPort(); Sidecar s = config(dead.url(), true).start()) {
            ExecutionException e = assertThrows(ExecutionException.class, () -> WsClient.open(ws(s, "/v1/realtime"), DUMMY));
            var refused = assertInstanceOf(WebSocketHandshakeException.class, e.getCause()).getResponse();
            assertEquals(502, refused.statusCode());
            assertEquals("upstream_connect_refused", refused.headers().firstValue("x-egress-error").orElse(null));
        }
    }

    @Test
    void refusesAnUpgradeOnARouteWithoutWebsocket() throws Exception {
        try (WebSocketUpstream up = new WebSocketUpstream(); Sidecar s = config("http://127.0.0.1:" + up.port(), false).start()) {
            ExecutionException e = assertThrows(ExecutionException.class, () -> WsClient.open(ws(s, "/v1/realtime"), DUMMY));
            var refused = assertInstanceOf(WebSocketHandshakeException.class, e.getCause()).getResponse();
            assertEquals(400, refused.statusCode());
            assertEquals("websocket_not_allowed", refused.headers().firstValue("x-egress-error").orElse(null));
            assertEquals(0, up.upgradesSeen(), "nothing reached the upstream");
        }
    }

    @Test
    void passesTheUpstreamsOwnRefusalOfTheUpgradeAsItCame() throws Exception {
        try (WebSocketUpstream up = new WebSocketUpstream().refuseWith(401, "{\"error\":{\"code\":\"invalid_api_key\"}}");
             Sidecar s = config("http://127.0.0.1:" + up.port(), true).start()) {
            ExecutionException e = assertThrows(ExecutionException.class, () -> WsClient.open(ws(s, "/v1/realtime"), DUMMY));
            var refused = assertInstanceOf(WebSocketHandshakeException.class, e.getCause()).getResponse();
            assertEquals(401, refused.statusCode());
            assertNull(refused.headers().firstValue("x-egress-error").orElse(null), "the upstream's answer, not ours");
        }
    }

    @Test
    void closesOpenSocketsWith1001AtTheDrainDeadline() throws Exception {
        try (WebSocketUpstream up = new WebSocketUpstream()) {
            Sidecar s = config("http://127.0.0.1:" + up.port(), true).start();
            WsClient c = WsClient.open(ws(s, "/v1/realtime"), DUMMY);
            c.socket.sendText("hi", true).get();
            assertEquals("echo:hi", c.next());
            long begin = System.nanoTime();
            s.close(); // drain_timeout 200ms: the socket is still open then
            assertTrue(System.nanoTime() - begin < Duration.ofSeconds(8).toNanos(), "stop waited on the open socket");
            WsClient.Closed closed = c.closed(10);
            assertEquals(1001, closed.code());
            assertTrue(closed.reason().contains("shutting down"), closed.reason());
        }
    }
}
