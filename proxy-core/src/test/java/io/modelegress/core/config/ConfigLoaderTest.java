package io.modelegress.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ConfigLoaderTest {
    private static final Function<String, String> NO_ENV = k -> null;

    private static final String BASE = String.join("\n",
            "upstreams:",
            "  openai:",
            "    url: https://api.openai.com",
            "  azure:",
            "    url: https://corp.openai.azure.com/openai",
            "routes:",
            "  - name: openai",
            "    prefix: /v1",
            "    upstreams: [openai]",
            "");

    private static InvalidConfigException invalid(String yaml) {
        return assertThrows(InvalidConfigException.class, () -> ConfigLoader.parse(yaml, "egress.yaml", NO_ENV));
    }

    @Test
    void embeddedDefaultLoadsWithoutCredentialsAndSaysWhichVariableToSet() throws Exception {
        EgressConfig cfg = ConfigLoader.loadDefault(NO_ENV);
        assertEquals(new HostPort("127.0.0.1", 8080), cfg.server().listen());
        assertEquals(new HostPort("127.0.0.1", 9090), cfg.server().admin());
        assertEquals("/v1", cfg.routes().get(0).prefix());
        assertTrue(cfg.routes().get(1).stripPrefix());
        SecretSource.Resolved key = cfg.upstream("openai").auth().value().current();
        assertFalse(key.present());
        assertTrue(key.missingReason().contains("OPENAI_API_KEY"), key.missingReason());
        assertEquals("x-api-key", cfg.upstream("anthropic").auth().header());
    }

    @Test
    void credentialTemplateIsResolvedFromTheEnvironment() throws Exception {
        EgressConfig cfg = ConfigLoader.loadDefault(Map.of("OPENAI_API_KEY", "sk-test")::get);
        assertEquals("Bearer sk-test", cfg.upstream("openai").auth().value().current().value());
        assertFalse(cfg.upstream("openai").auth().value().toString().contains("sk-test"));
    }

    @Test
    void referenceDefaultsFillEveryKey() throws Exception {
        EgressConfig cfg = ConfigLoader.parse(BASE, "egress.yaml", NO_ENV);
        assertEquals(32L * 1024 * 1024, cfg.server().maxRequestBody());
        assertEquals(10_000, cfg.server().maxConnections());
        assertEquals(64, cfg.server().adminMaxConnections());
        assertEquals(Duration.ofSeconds(5), cfg.timeouts().connect());
        assertEquals(3, cfg.retry().maxAttempts());
        assertEquals(3, cfg.routes().get(0).retry().maxAttempts());
        assertEquals(5, cfg.upstream("openai").breaker().consecutiveFailures());
        assertEquals("/openai", cfg.upstream("azure").basePath());
        assertEquals(443, cfg.upstream("azure").port());
    }

    @Test
    void overridesLayerGlobalThenUpstreamThenRoute() throws Exception {
        EgressConfig cfg = ConfigLoader.parse(BASE.replace("    url: https://api.openai.com",
                        "    url: https://api.openai.com\n    timeouts: { response_headers: 300s, connect: 2s }")
                + "    timeouts: { connect: 1s }\n    retry: { max_attempts: 5 }\n", "egress.yaml", NO_ENV);
        Timeouts t = cfg.timeoutsFor(cfg.routes().get(0), cfg.upstream("openai"));
        assertEquals(Duration.ofSeconds(300), t.responseHeaders());
        assertEquals(Duration.ofSeconds(1), t.connect());
        assertEquals(Duration.ofSeconds(10), t.tlsHandshake());
        assertEquals(5, cfg.routes().get(0).retry().maxAttempts());
    }

    @Test
    void environmentVariablesAreSubstitutedWithDefaults() throws Exception {
        String yaml = BASE.replace("https://api.openai.com", "${OPENAI_URL:-https://fallback.example}");
        EgressConfig cfg = ConfigLoader.parse(yaml, "egress.yaml", NO_ENV);
        assertEquals("fallback.example", cfg.upstream("openai").host());
    }

    @Test
    void unsetVariableWithoutDefaultNamesItAndTheLine() {
        InvalidConfigException e = invalid(BASE.replace("https://api.openai.com", "${OPENAI_URL}"));
        assertTrue(e.getMessage().startsWith("egress.yaml:3: upstreams.openai.url: environment variable OPENAI_URL is not set"),
                e.getMessage());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "unknown key with a suggestion | server:\\n  lisen: 127.0.0.1:1 | egress.yaml:2: server.lisen: unknown key (did you mean \"listen\"?)",
        "unknown top-level key | timeout:\\n  connect: 1s | egress.yaml:1: timeout: unknown key (did you mean \"timeouts\"?)",
        "bad duration | timeouts:\\n  connect: fast | egress.yaml:2: timeouts.connect: \"fast\" is not valid (expected: a duration like 250ms, 5s or 2m)",
        "negative duration | timeouts:\\n  connect: -1s | timeouts.connect: PT-1S (expected: a duration >= 0",
        "bad size | server:\\n  max_request_body: lots | egress.yaml:2: server.max_request_body: \"lots\" is not valid (expected: a size like 512KiB or 32MiB)",
        "wrong type | retry:\\n  max_attempts: three | egress.yaml:2: retry.max_attempts: \"three\" is not valid (expected: an integer >= 1)",
        "bad listen address | server:\\n  listen: localhost | egress.yaml:2: server.listen: \"localhost\" (expected: host:port",
        "bad retry_on word | retry:\\n  retry_on: [conect_failure] | retry.retry_on: \"conect_failure\" (did you mean \"connect_failure\"?)",
        "invalid YAML | server: [unclosed | egress.yaml:2: not valid YAML",
        "negative connection cap | server:\\n  max_connections: -1 | egress.yaml:2: server.max_connections: -1 (expected: an integer >= 0)",
        "streamed limit under the buffer | server:\\n  max_streamed_request_body: 512KiB | egress.yaml:2: server.max_streamed_request_body: 524288 bytes is below server.buffer_request_body_up_to",
        "bad streamed limit | server:\\n  max_streamed_request_body: huge | server.max_streamed_request_body: \"huge\" is not valid (expected: a size like 512KiB or 32MiB)",
        "connection cap not a number | server:\\n  admin_max_connections: many | server.admin_max_connections: \"many\" is not valid (expected: an integer >= 0)",
    })
    void invalidGlobalSettingsNameKeyFileAndLine(String name, String yaml, String expected) {
        InvalidConfigException e = invalid(yaml.replace("\\n", "\n") + "\n" + BASE);
        assertTrue(e.getMessage().contains(expected), () -> name + ": " + e.getMessage());
    }

    @Test
    void stripRequestHeadersDefaultsToNoneAndIsReadInLowerCase() throws Exception {
        assertEquals(java.util.List.of(), ConfigLoader.parse(BASE, "egress.yaml", NO_ENV).routes().get(0).stripRequestHeaders());
        EgressConfig cfg = ConfigLoader.parse(BASE.replace("    upstreams: [openai]",
                "    upstreams: [openai]\n    strip_request_headers: [X-Agent-Session, x-tenant-token]"), "egress.yaml", NO_ENV);
        assertEquals(java.util.List.of("x-agent-session", "x-tenant-token"), cfg.routes().get(0).stripRequestHeaders());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "header name with a space | strip_request_headers: [\"x agent\"] | egress.yaml:9: routes[0].strip_request_headers: \"x agent\" is not a header name",
        "header name with a colon | strip_request_headers: [\"x-a:b\"] | routes[0].strip_request_headers: \"x-a:b\" is not a header name",
        "prefix with dot segments | prefix: /v1/../admin | egress.yaml:8: routes[0].prefix: \"/v1/../admin\" is not a normalised path (expected: /admin",
        "prefix with doubled slashes | prefix: /v1//x | routes[0].prefix: \"/v1//x\" is not a normalised path (expected: /v1/x",
        "prefix with an encoded slash | prefix: /v1%2Fx | routes[0].prefix: \"/v1%2Fx\" is not a normalised path (an encoded / or",
    })
    void invalidRouteSettingsNameKeyFileAndLine(String name, String line, String expected) {
        String yaml = BASE.replace("    prefix: /v1\n", line.startsWith("prefix") ? "    " + line + "\n" : "    prefix: /v1\n    " + line + "\n");
        InvalidConfigException e = invalid(yaml);
        assertTrue(e.getMessage().contains(expected), () -> name + ": " + e.getMessage());
    }

    @Test
    void badUpstreamUrlIsRejected() {
        InvalidConfigException e = invalid(BASE.replace("https://api.openai.com", "ftp://api.openai.com"));
        assertTrue(e.getMessage().contains("egress.yaml:3: upstreams.openai.url: \"ftp://api.openai.com\" (expected: an http:// or https:// URL"), e.getMessage());
    }

    @Test
    void unknownKeyInsideAnUpstreamSuggestsTheRightOne() {
        InvalidConfigException e = invalid(BASE.replace("    url: https://api.openai.com", "    url: https://api.openai.com\n    limts: {}"));
        assertTrue(e.getMessage().contains("egress.yaml:4: upstreams.openai.limts: unknown key (did you mean \"limits\"?)"), e.getMessage());
    }

    @Test
    void routeNamingAnUnknownUpstreamSuggestsTheClosest() {
        InvalidConfigException e = invalid(BASE.replace("upstreams: [openai]", "upstreams: [openai, azur]"));
        assertTrue(e.getMessage().contains("egress.yaml:9: routes[0].upstreams[1]: unknown upstream \"azur\" (did you mean \"azure\"?)"), e.getMessage());
    }

    @Test
    void duplicatePrefixesAreRejected() {
        InvalidConfigException e = invalid(BASE + "  - name: other\n    prefix: /v1/\n    upstreams: [azure]\n");
        assertTrue(e.getMessage().contains("egress.yaml:11: routes[1].prefix: \"/v1\" is also the prefix of route \"openai\""), e.getMessage());
    }

    @Test
    void samePrefixWithDistinctModelListsIsModelRouting() throws Exception {
        EgressConfig cfg = ConfigLoader.parse(BASE + "  - name: azure\n    prefix: /v1\n    models: [\"gpt-4o*\"]\n    upstreams: [azure]\n", "egress.yaml", NO_ENV);
        assertEquals(2, cfg.routes().size());
    }

    @Test
    void everyProblemIsReportedAtOnce() {
        InvalidConfigException e = invalid("timeouts:\n  connect: fast\n  dns: slow\n" + BASE);
        assertEquals(2, e.problems().size(), e.getMessage());
    }

    @Test
    void authNeedsExactlyOneSource() {
        InvalidConfigException e = invalid(BASE.replace("    url: https://api.openai.com",
                "    url: https://api.openai.com\n    auth: { header: Authorization }"));
        assertTrue(e.getMessage().contains("upstreams.openai.auth.value: expected exactly one of value or value_file"), e.getMessage());
    }

    @Test
    void nullProxyMeansUnset() throws Exception {
        EgressConfig cfg = ConfigLoader.parse("proxy:\n  https: ~\n  no_proxy: [.svc]\n" + BASE, "egress.yaml", NO_ENV);
        assertNull(cfg.proxy().https());
        assertEquals(java.util.List.of(".svc"), cfg.proxy().noProxy());
    }
}
