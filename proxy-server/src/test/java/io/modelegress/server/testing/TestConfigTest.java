package io.modelegress.server.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.modelegress.core.config.EgressConfig;
import io.modelegress.core.config.InvalidConfigException;
import io.modelegress.core.config.RouteSettings;
import io.modelegress.core.config.RouteTarget;
import io.modelegress.core.config.UpstreamSettings;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The builder's YAML is what the real loader reads: every typed setter lands in the record it names. */
class TestConfigTest {
    @Test
    void everyTypedSetterReachesTheLoadedConfig() throws Exception {
        EgressConfig cfg = TestConfig.config()
                .server("max_request_body", "1KiB")
                .timeout("connect", "300ms").timeout("first_token", Duration.ofMillis(400))
                .maxAttempts(2).backoff("50ms", "200ms")
                .ignoreEnvironmentProxy()
                .set("dns.hosts", Map.of("model.test", "127.0.0.1"))
                .upstream("primary", "http://127.0.0.1:1", u -> u
                        .auth("Authorization", "Bearer ${KEY}")
                        .breaker(3, "5s")
                        .limit("max_concurrent", 4)
                        .timeout("response_headers", "30s")
                        .proxy("direct"))
                .upstream("fallback", "http://127.0.0.1:2")
                .route("r", "/v1", r -> r.upstreams("primary").fallback("fallback", "big-model")
                        .fallbackOn("429").stripRequestHeaders("x-agent-session").models("small*"))
                .route("a", "/anthropic", r -> r.upstreams("fallback").dialect("anthropic").stripPrefix())
                .load(Map.of("KEY", "sk-test"));

        assertEquals(1024, cfg.server().maxRequestBody());
        assertEquals(0, cfg.server().listen().port());
        assertEquals(Duration.ofMillis(300), cfg.timeouts().connect());
        assertEquals(Duration.ofMillis(400), cfg.timeouts().firstToken());
        assertEquals(2, cfg.retry().maxAttempts());
        assertEquals(Duration.ofMillis(50), cfg.retry().backoffBase());
        assertEquals(Duration.ofMillis(200), cfg.retry().backoffMax());
        assertFalse(cfg.proxy().useEnvironment());

        UpstreamSettings primary = cfg.upstream("primary");
        assertEquals("Authorization", primary.auth().header());
        assertEquals("Bearer sk-test", primary.auth().value().current().value());
        assertEquals(3, primary.breaker().consecutiveFailures());
        assertEquals(Duration.ofSeconds(5), primary.breaker().cooldown());
        assertEquals(4, primary.limits().maxConcurrent());
        assertEquals(Duration.ofSeconds(30), primary.timeouts().responseHeaders());
        assertEquals("direct", primary.proxy());

        RouteSettings r = cfg.routes().get(0);
        assertEquals(List.of(new RouteTarget("primary", null), new RouteTarget("fallback", "big-model")), r.upstreams());
        assertEquals(List.of("429"), r.fallbackOn());
        assertEquals(List.of("x-agent-session"), r.stripRequestHeaders());
        assertEquals(List.of("small*"), r.models());
        RouteSettings a = cfg.routes().get(1);
        assertTrue(a.stripPrefix());
        assertEquals("anthropic", a.dialect().name().toLowerCase());
        assertNull(cfg.upstream("fallback").auth());
    }

    @Test
    void aKeyTheLoaderDoesNotKnowFailsAsItWouldForAnOperator() {
        TestConfig c = TestConfig.config().upstream("up", "http://127.0.0.1:1", u -> u.set("urll", "x"))
                .route("r", "/v1", "up");
        InvalidConfigException e = assertThrows(InvalidConfigException.class, () -> c.load(Map.of()));
        assertTrue(e.getMessage().contains("urll"), e.getMessage());
    }

    @Test
    void valuesWithQuotesAndColonsSurviveAsText() throws Exception {
        EgressConfig cfg = TestConfig.config()
                .upstream("up", "http://127.0.0.1:1", u -> u.auth("x-api-key", "a: \"b\" # c"))
                .route("r", "/v1", "up").load(Map.of());
        assertEquals("a: \"b\" # c", cfg.upstream("up").auth().value().current().value());
    }
}
