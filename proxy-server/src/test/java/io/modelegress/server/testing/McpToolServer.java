package io.modelegress.server.testing;

import io.modelcontextprotocol.server.McpServer;
import io.modelcontextprotocol.server.McpServerFeatures;
import io.modelcontextprotocol.server.McpSyncServer;
import io.modelcontextprotocol.server.transport.HttpServletSseServerTransportProvider;
import io.modelcontextprotocol.server.transport.HttpServletStreamableServerTransportProvider;
import io.modelcontextprotocol.spec.McpSchema;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.Filter;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.eclipse.jetty.ee10.servlet.FilterHolder;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;

/**
 * A real MCP tool server on loopback: the official MCP Java SDK's servlet transports in an embedded Jetty, with one
 * tool, {@code count}, that sends a progress notification per step before its result. Every request it receives is
 * recorded (method, path, the MCP headers, the credential), so tests can see what the sidecar sent.
 */
public final class McpToolServer implements AutoCloseable {
    /** One request as the tool server received it. */
    public record Seen(String method, String path, String sessionId, String protocolVersion, String authorization, String accept) {}

    private final Server jetty;
    private final McpSyncServer mcp;
    private final List<Seen> seen = new CopyOnWriteArrayList<>();

    /** Streamable HTTP (2025-03-26 and later) at {@code /mcp}. */
    public static McpToolServer streamable() throws Exception {
        HttpServletStreamableServerTransportProvider t = HttpServletStreamableServerTransportProvider.builder().mcpEndpoint("/mcp").build();
        return new McpToolServer(t, withCount(McpServer.sync(t).serverInfo("loopback-tools", "1.0")
                .capabilities(McpSchema.ServerCapabilities.builder().tools(true).build())), 0);
    }

    /** The older HTTP+SSE transport: {@code GET /sse}, whose endpoint event is an absolute URL of this server. */
    public static McpToolServer httpSse() throws Exception {
        // The endpoint's base URL must be known before Jetty listens: a free port is chosen first.
        int port = LoopbackPorts.free();
        HttpServletSseServerTransportProvider t = HttpServletSseServerTransportProvider.builder().baseUrl("http://127.0.0.1:" + port)
                .sseEndpoint("/sse").messageEndpoint("/messages").build();
        return new McpToolServer(t, withCount(McpServer.sync(t).serverInfo("loopback-tools-sse", "1.0")
                .capabilities(McpSchema.ServerCapabilities.builder().tools(true).build())), port);
    }

    private McpToolServer(HttpServlet transport, McpSyncServer mcp, int port) throws Exception {
        this.mcp = mcp;
        jetty = new Server();
        ServerConnector connector = new ServerConnector(jetty);
        connector.setHost("127.0.0.1");
        connector.setPort(port);
        connector.setIdleTimeout(600_000); // an MCP event stream is quiet for minutes: Jetty's 30 s default would end it
        jetty.addConnector(connector);
        ServletContextHandler context = new ServletContextHandler();
        context.setContextPath("/");
        Filter record = (req, resp, chain) -> {
            HttpServletRequest r = (HttpServletRequest) req;
            seen.add(new Seen(r.getMethod(), r.getRequestURI() + (r.getQueryString() == null ? "" : "?" + r.getQueryString()),
                    r.getHeader("Mcp-Session-Id"), r.getHeader("MCP-Protocol-Version"), r.getHeader("Authorization"),
                    r.getHeader("Accept")));
            chain.doFilter(req, resp);
        };
        context.addFilter(new FilterHolder(record), "/*", EnumSet.of(DispatcherType.REQUEST));
        ServletHolder holder = new ServletHolder(transport);
        holder.setAsyncSupported(true);
        context.addServlet(holder, "/*");
        jetty.setHandler(context);
        jetty.start();
    }

    private static McpSyncServer withCount(McpServer.SyncSpecification<?> spec) {
        McpSchema.Tool count = McpSchema.Tool.builder().name("count").description("counts to n, reporting progress")
                .inputSchema(Map.of("type", "object", "properties", Map.of("n", Map.of("type", "integer")))).build();
        return spec.tools(McpServerFeatures.SyncToolSpecification.builder().tool(count).callHandler((exchange, req) -> {
            int n = req.arguments() == null ? 3 : ((Number) req.arguments().getOrDefault("n", 3)).intValue();
            Object token = req.meta() == null ? null : req.meta().get("progressToken");
            for (int i = 1; i <= n; i++) {
                if (token != null) exchange.progressNotification(new McpSchema.ProgressNotification(token, i, (double) n, "step " + i));
            }
            return McpSchema.CallToolResult.builder().addTextContent("counted to " + n).build();
        }).build()).build();
    }

    public String url() { return "http://127.0.0.1:" + ((ServerConnector) jetty.getConnectors()[0]).getLocalPort(); }

    public McpSyncServer mcp() { return mcp; }

    public List<Seen> seen() { return List.copyOf(seen); }

    @Override
    public void close() throws Exception {
        mcp.closeGracefully();
        jetty.stop();
    }
}
