package io.modelegress.server.mcp;

import static io.modelegress.server.testing.TestConfig.config;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.modelcontextprotocol.client.McpClient;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.client.transport.HttpClientSseClientTransport;
import io.modelcontextprotocol.client.transport.HttpClientStreamableHttpTransport;
import io.modelcontextprotocol.spec.McpSchema;
import io.modelegress.server.testing.Http;
import io.modelegress.server.testing.McpToolServer;
import io.modelegress.server.testing.Sidecar;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static org.awaitility.Awaitility.await;

/**
 * The official MCP Java SDK as client and as server (in Jetty), both on loopback, with the sidecar between them on a
 * {@code kind: mcp} route: streamable HTTP end to end (initialise, list, a tool call that streams progress, a
 * server-initiated notification on the GET stream after 90 s of silence with {@code stream_idle} at 2 s and the
 * request deadline at 10 s, the session kept and deleted), and the older HTTP+SSE transport.
 */
class McpTransportsTest {
    private static final String TOKEN = "Bearer tool-secret";
    /** Longer than stream_idle (2 s) and the request deadline (10 s) many times over. */
    private static final Duration SILENCE = Duration.ofSeconds(Long.getLong("mcp.silence.seconds", 90));

    private static Sidecar sidecar(McpToolServer tools) throws Exception {
        return config().ignoreEnvironmentProxy()
                .timeout("stream_idle", "2s").timeout("request", "10s").timeout("mcp_keepalive", "1s")
                .upstream("tools", tools.url(), u -> u.auth("Authorization", TOKEN))
                .route("tools", "/tools", r -> r.upstreams("tools").stripPrefix().set("kind", "mcp"))
                .start();
    }

    private static List<McpToolServer.Seen> seen(McpToolServer tools, String method) {
        return tools.seen().stream().filter(s -> s.method().equals(method)).collect(Collectors.toList());
    }

    @Test
    @Timeout(180)
    void aStreamableHttpSessionOutlivesStreamIdleAndTheDeadlineAndEndsWithDelete() throws Exception {
        try (McpToolServer tools = McpToolServer.streamable(); Sidecar sidecar = sidecar(tools)) {
            CountDownLatch toolsChanged = new CountDownLatch(1);
            List<McpSchema.ProgressNotification> progress = new CopyOnWriteArrayList<>();
            McpSyncClient client = McpClient.sync(HttpClientStreamableHttpTransport.builder(sidecar.url()).endpoint("/tools/mcp").build())
                    .requestTimeout(Duration.ofSeconds(30))
                    .toolsChangeConsumer(t -> toolsChanged.countDown())
                    .progressConsumer(progress::add)
                    .build();
            String session;
            try {
                McpSchema.InitializeResult init = client.initialize();
                assertEquals("loopback-tools", init.serverInfo().name());
                // The client opens its GET stream once it has a session; the 90 s of silence start there.
                await().atMost(Duration.ofSeconds(10)).until(() -> !seen(tools, "GET").isEmpty());
                long silenceFrom = System.nanoTime();
                McpToolServer.Seen get = seen(tools, "GET").get(0);
                assertTrue(get.accept().contains("text/event-stream"), get.accept());
                session = get.sessionId();
                assertNotNull(session, "the server's Mcp-Session-Id reached the agent and came back");

                // While the GET stream is silent: list, and a tool call whose answer streams progress first.
                assertEquals(List.of("count"), client.listTools().tools().stream().map(McpSchema.Tool::name).collect(Collectors.toList()));
                McpSchema.CallToolResult result = client.callTool(McpSchema.CallToolRequest.builder().name("count")
                        .arguments(Map.of("n", 3)).progressToken("p-1").build());
                assertEquals("counted to 3", ((McpSchema.TextContent) result.content().get(0)).text());
                await().atMost(Duration.ofSeconds(10)).until(() -> progress.size() == 3);
                // All three, sorted: the SDK's sync client hands each notification to its consumer on its own
                // boundedElastic task, so their order here is not the stream's (it came [2, 1, 3] on a loaded machine).
                assertEquals(List.of(1.0, 2.0, 3.0), progress.stream().map(McpSchema.ProgressNotification::progress).sorted()
                        .collect(Collectors.toList()));

                // Everything after initialize carried the one session and the negotiated version; ours the credential.
                List<McpToolServer.Seen> posts = seen(tools, "POST");
                assertEquals(Set.of(session), posts.stream().skip(1).map(McpToolServer.Seen::sessionId).collect(Collectors.toSet()));
                assertTrue(posts.stream().skip(1).allMatch(p -> p.protocolVersion() != null), posts.toString());
                assertTrue(tools.seen().stream().allMatch(s -> TOKEN.equals(s.authorization())), tools.seen().toString());

                long left = SILENCE.toNanos() - (System.nanoTime() - silenceFrom);
                assertFalse(toolsChanged.await(Math.max(0, left), TimeUnit.NANOSECONDS), "nothing was sent on the GET stream yet");
                tools.mcp().notifyToolsListChanged();
                assertTrue(toolsChanged.await(20, TimeUnit.SECONDS), "the notification after 90 s of silence arrived");
                assertEquals(1, seen(tools, "GET").size(), "the GET stream was never cut (the client would have opened another)");
            } finally {
                client.closeGracefully();
            }

            // The client ends its session with DELETE: it passes, with the session.
            await().atMost(Duration.ofSeconds(10)).until(() -> !seen(tools, "DELETE").isEmpty());
            assertEquals(session, seen(tools, "DELETE").get(0).sessionId());
            // A message on the ended session: the server's 404 passes unchanged (the client's cue to re-initialise).
            int before = tools.seen().size();
            var gone = Http.post(sidecar.url() + "/tools/mcp", "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"ping\"}",
                    "Content-Type", "application/json", "Accept", "application/json, text/event-stream", "Mcp-Session-Id", session);
            assertEquals(404, gone.statusCode(), gone.body());
            assertNull(gone.headers().firstValue("x-egress-error").orElse(null), "the 404 is the server's, not ours");
            assertEquals(before + 1, tools.seen().size(), "the 404 was neither retried nor sent elsewhere");
        }
    }

    @Test
    @Timeout(60)
    void theOlderHttpSseTransportPostsThroughTheSidecarToTheEndpointItWasGiven() throws Exception {
        try (McpToolServer tools = McpToolServer.httpSse(); Sidecar sidecar = sidecar(tools)) {
            McpSyncClient client = McpClient.sync(HttpClientSseClientTransport.builder(sidecar.url()).sseEndpoint("/tools/sse").build())
                    .requestTimeout(Duration.ofSeconds(20)).build();
            try {
                assertEquals("loopback-tools-sse", client.initialize().serverInfo().name());
                McpSchema.CallToolResult result = client.callTool(McpSchema.CallToolRequest.builder().name("count")
                        .arguments(Map.of("n", 2)).build());
                assertEquals("counted to 2", ((McpSchema.TextContent) result.content().get(0)).text());
            } finally {
                client.closeGracefully();
            }
            // The endpoint event named the upstream itself; the client posted to the sidecar, which added the credential.
            List<McpToolServer.Seen> posts = seen(tools, "POST");
            assertFalse(posts.isEmpty());
            assertTrue(posts.stream().allMatch(p -> p.path().startsWith("/messages?sessionId=") && TOKEN.equals(p.authorization())),
                    posts.toString());
        }
    }
}
