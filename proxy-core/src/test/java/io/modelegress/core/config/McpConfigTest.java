package io.modelegress.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class McpConfigTest {
    private static final Function<String, String> NO_ENV = k -> null;
    private static final String BASE = String.join("\n",
            "upstreams:",
            "  tools:",
            "    url: http://127.0.0.1:9000",
            "routes:",
            "  - name: tools",
            "    prefix: /mcp",
            "    upstreams: [tools]",
            "");

    private static EgressConfig parse(String yaml) throws Exception { return ConfigLoader.parse(yaml, "egress.yaml", NO_ENV); }

    private static String route(String line) { return BASE + "    " + line + "\n"; }

    @Test
    void aRouteIsAModelRouteAndMcpStreamsHaveTheirDefaults() throws Exception {
        EgressConfig cfg = parse(BASE);
        RouteSettings r = cfg.routes().get(0);
        assertEquals(RouteSettings.Kind.MODEL, r.kind());
        Timeouts t = cfg.timeoutsFor(r, cfg.upstream("tools"));
        assertEquals(Duration.ofMinutes(30), t.mcpStreamIdle());
        assertEquals(Duration.ofSeconds(15), t.mcpKeepalive());
    }

    @Test
    void kindMcpAndTheStreamLimitsAreReadAsWrittenWithTheRouteOverridingTheGlobalBlock() throws Exception {
        EgressConfig cfg = parse("timeouts: { mcp_stream_idle: 10m, mcp_keepalive: 5s }\n"
                + route("kind: mcp\n    timeouts: { mcp_keepalive: 2s }"));
        RouteSettings r = cfg.routes().get(0);
        assertTrue(r.isMcp());
        Timeouts t = cfg.timeoutsFor(r, cfg.upstream("tools"));
        assertEquals(Duration.ofMinutes(10), t.mcpStreamIdle());
        assertEquals(Duration.ofSeconds(2), t.mcpKeepalive());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "unknown kind | kind: tool | routes[0].kind: \"tool\" (expected: model or mcp)",
        "hedging an MCP route | kind: mcp\\n    hedge_after: 2s | routes[0].hedge_after: set on a kind: mcp route",
        "resuming an MCP route | kind: mcp\\n    resume: { on: [reset] } | routes[0].resume.on: set on a kind: mcp route",
        "an unbounded MCP stream | timeouts: { mcp_stream_idle: 0s } | routes[0].timeouts.mcp_stream_idle: 0s (expected: a duration > 0",
    })
    void refusesWhatWouldRepeatAToolCallOrNeverEnd(String what, String line, String expected) {
        InvalidConfigException e = assertThrows(InvalidConfigException.class, () -> parse(route(line.replace("\\n", "\n"))));
        assertTrue(e.getMessage().contains(expected), what + ": " + e.getMessage());
    }
}
