package io.modelegress.server.mcp;

import static io.modelegress.server.testing.TestConfig.config;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.modelegress.server.testing.FaultServer;
import io.modelegress.server.testing.Sidecar;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The MCP event stream on the wire: a server that sends one event, then half of the next, then nothing. Keep-alive
 * comments go to the agent between events (never inside the half one), the stream outlives {@code stream_idle} and
 * the request deadline, and ends at {@code timeouts.mcp_stream_idle}.
 */
class McpEventStreamTest {
    private static final String HEAD = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n";

    private static String chunk(String s) {
        return Integer.toHexString(s.getBytes(StandardCharsets.UTF_8).length) + "\r\n" + s + "\r\n";
    }

    @Test
    @Timeout(30)
    void keepAlivesGoBetweenEventsOnlyAndTheStreamEndsAtMcpStreamIdle() throws Exception {
        String first = "event: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/tools/list_changed\"}\n\n";
        String half = "event: message\ndata: {\"half\":";
        try (FaultServer tools = FaultServer.replyingThenSilent(HEAD + chunk(first) + chunk(half));
             Sidecar sidecar = config().ignoreEnvironmentProxy()
                     .timeout("stream_idle", "1s").timeout("request", "2s")
                     .timeout("mcp_keepalive", "1s").timeout("mcp_stream_idle", "6s")
                     .upstream("tools", "http://127.0.0.1:" + tools.port())
                     .route("tools", "/tools", r -> r.upstreams("tools").stripPrefix().set("kind", "mcp"))
                     .start();
             Socket agent = new Socket("127.0.0.1", sidecar.port())) {
            agent.setSoTimeout(20_000); // a read that never ends fails the test instead of hanging it
            OutputStream out = agent.getOutputStream();
            out.write(("GET /tools/mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n"
                    + "Mcp-Session-Id: s-1\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            long start = System.nanoTime();
            InputStream in = agent.getInputStream();
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            byte[] buf = new byte[4096];
            for (int n; (n = in.read(buf)) >= 0; ) got.write(buf, 0, n); // to the sidecar's close
            Duration open = Duration.ofNanos(System.nanoTime() - start);
            String wire = got.toString(StandardCharsets.UTF_8);

            assertTrue(wire.startsWith("HTTP/1.1 200"), wire);
            assertTrue(wire.contains("list_changed"), wire);
            String afterFirst = wire.substring(wire.indexOf("list_changed"));
            int keepAlives = afterFirst.split(": keep-alive\n\n", -1).length - 1;
            assertTrue(keepAlives >= 3, "a keep-alive about every second of silence: " + keepAlives + " in " + wire);
            assertFalse(wire.contains("half"), "the half event was not relayed, so no comment landed inside it: " + wire);
            // Far past stream_idle (1 s) and the deadline (2 s); ended by mcp_stream_idle (6 s).
            assertTrue(open.compareTo(Duration.ofMillis(5500)) >= 0 && open.compareTo(Duration.ofSeconds(20)) < 0, open.toString());
            assertEquals(1, tools.accepted(), "the stream was not retried");
        }
    }
}
