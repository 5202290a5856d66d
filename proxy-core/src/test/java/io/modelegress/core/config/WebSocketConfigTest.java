package io.modelegress.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The WebSocket passthrough's keys: {@code routes[].websocket}, {@code server.websocket_max_message}, {@code timeouts.websocket_idle}. */
class WebSocketConfigTest {
    private static final Function<String, String> NO_ENV = k -> null;
    private static final String BASE = String.join("\n",
            "upstreams:",
            "  openai:",
            "    url: https://api.openai.com",
            "routes:",
            "  - name: realtime",
            "    prefix: /v1/realtime",
            "    upstreams: [openai]",
            "");

    private static EgressConfig parse(String yaml) throws Exception { return ConfigLoader.parse(yaml, "egress.yaml", NO_ENV); }

    @Test
    void websocketIsOffWithSixteenMebibyteMessagesAndFiveMinutesIdleByDefault() throws Exception {
        EgressConfig cfg = parse(BASE);
        assertFalse(cfg.routes().get(0).websocket());
        assertEquals(16L << 20, cfg.server().websocketMaxMessage());
        assertEquals(Duration.ofSeconds(300), cfg.timeoutsFor(cfg.routes().get(0), cfg.upstream("openai")).websocketIdle());
    }

    @Test
    void aRouteTurnsItOnAndMayOverrideTheIdleLimit() throws Exception {
        EgressConfig cfg = parse("server:\n  websocket_max_message: 64MiB\ntimeouts:\n  websocket_idle: 10m\n"
                + BASE + "    websocket: true\n    timeouts: { websocket_idle: 30s }\n");
        RouteSettings r = cfg.routes().get(0);
        assertTrue(r.websocket());
        assertEquals(64L << 20, cfg.server().websocketMaxMessage());
        assertEquals(Duration.ofMinutes(10), cfg.timeouts().websocketIdle());
        assertEquals(Duration.ofSeconds(30), cfg.timeoutsFor(r, cfg.upstream("openai")).websocketIdle());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "message limit too small | server:\\n  websocket_max_message: 100B\\n | server.websocket_max_message: 100 bytes (expected: 1KiB to 1GiB",
        "message limit too large | server:\\n  websocket_max_message: 2GiB\\n | server.websocket_max_message: 2147483648 bytes (expected: 1KiB to 1GiB",
        "idle of zero | timeouts:\\n  websocket_idle: 0s\\n | timeouts.websocket_idle: 0 (expected: a duration > 0",
        "not a boolean | '' | routes[0].websocket",
    })
    void refusesValuesItCannotUseNamingTheKey(String name, String prefix, String expected) {
        String yaml = prefix.replace("\\n", "\n") + BASE + (name.equals("not a boolean") ? "    websocket: sometimes\n" : "");
        InvalidConfigException e = assertThrows(InvalidConfigException.class, () -> parse(yaml));
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }
}
