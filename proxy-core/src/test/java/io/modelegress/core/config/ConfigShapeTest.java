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

/**
 * A value of the wrong shape (a number where a mapping goes, a mapping where a list goes) is a config problem with
 * the key, file:line and the expected shape, never a Typesafe exception; every problem is reported in one run.
 */
class ConfigShapeTest {
    private static final Function<String, String> NO_ENV = k -> null;

    private static final String UPSTREAM = "upstreams:\n  a:\n    url: https://a.example\n";
    private static final String ROUTE = "routes:\n  - { prefix: /v1, upstreams: [a] }\n";

    private static InvalidConfigException invalid(String yaml) {
        return assertThrows(InvalidConfigException.class, () -> ConfigLoader.parse(yaml, "egress.yaml", NO_ENV));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "server: 5               | server: 5\\n{U}{R}                                           | egress.yaml:1: server: got a number (expected: a mapping",
        "routes: a mapping       | routes: {prefix: /v1}\\n{U}                                   | egress.yaml:1: routes: got a mapping (expected: a list of routes",
        "auth: a string          | upstreams:\\n  a:\\n    url: https://a.example\\n    auth: \"Bearer x\"\\n{R} | egress.yaml:4: upstreams.a.auth: got a string (expected: a mapping",
        "route retry: a number   | {U}routes:\\n  - { prefix: /v1, upstreams: [a], retry: 3 }\\n | egress.yaml:5: routes[0].retry: got a number (expected: a mapping",
        "dns hosts: a list       | dns: {hosts: [1]}\\n{U}{R}                                   | egress.yaml:1: dns.hosts: got a list (expected: a mapping",
        "timeouts: a list        | timeouts: [1, 2]\\n{U}{R}                                    | egress.yaml:1: timeouts: got a list (expected: a mapping",
        "upstream limits: a list | upstreams:\\n  a:\\n    url: https://a.example\\n    limits: [1]\\n{R} | egress.yaml:4: upstreams.a.limits: got a list (expected: a mapping",
        "top-level limits        | limits: [1]\\n{U}{R}                                         | egress.yaml:1: limits: unknown key",
        "upstreams: a list       | upstreams: [1]\\n{R}                                         | egress.yaml:1: upstreams: got a list (expected: a mapping",
        "proxy auth: a number    | proxy: {auth: 3}\\n{U}{R}                                    | egress.yaml:1: proxy.auth: got a number (expected: a mapping",
        "retry backoff: a number | retry: {backoff: 1}\\n{U}{R}                                  | egress.yaml:1: retry.backoff: got a number (expected: a mapping",
        "route timeouts: list    | {U}routes:\\n  - { prefix: /v1, upstreams: [a], timeouts: [1] }\\n | egress.yaml:5: routes[0].timeouts: got a list (expected: a mapping",
        "route upstreams: map    | {U}routes:\\n  - { prefix: /v1, upstreams: {a: 1} }\\n      | egress.yaml:5: routes[0].upstreams: got a mapping (expected: a list",
        "retry_on: a mapping     | retry: {retry_on: {a: 1}}\\n{U}{R}                           | egress.yaml:1: retry.retry_on: got a mapping (expected: a list",
        "a route that is a number| {U}routes:\\n  - 5\\n                                        | egress.yaml:5: routes[0]: got a number (expected: a mapping with prefix and upstreams",
        "an upstream that is a string | upstreams:\\n  a: https://a.example\\n{R}                | egress.yaml:2: upstreams.a: got a string (expected: a mapping with at least url",
    })
    void wrongShapeIsAProblemWithKeyLineAndExpectedShape(String name, String yaml, String expected) {
        String text = yaml.strip().replace("{U}", UPSTREAM).replace("{R}", ROUTE).replace("\\n", "\n");
        InvalidConfigException e = invalid(text);
        assertTrue(e.getMessage().contains(expected), () -> name + ":\n" + e.getMessage());
        assertFalse(e.getMessage().contains("has type"), () -> "a Typesafe message leaked: " + e.getMessage());
    }

    @Test
    void aWrongShapeNeverEchoesTheValueItMayBeASecret() {
        InvalidConfigException e = invalid("upstreams:\n  a:\n    url: https://a.example\n    auth: \"Bearer sk-live-123\"\n" + ROUTE);
        assertFalse(e.getMessage().contains("sk-live-123"), e.getMessage());
        InvalidConfigException list = invalid(UPSTREAM.replace("    url: https://a.example\n",
                "    url: https://a.example\n    auth: { header: Authorization, value: [sk-live-456] }\n") + ROUTE);
        assertFalse(list.getMessage().contains("sk-live-456"), list.getMessage());
        assertTrue(list.getMessage().contains("upstreams.a.auth.value"), list.getMessage());
    }

    @Test
    void anEmptyBlockMeansTheDefaults() throws Exception {
        EgressConfig cfg = ConfigLoader.parse("server:\ntimeouts:\n" + UPSTREAM + "    limits:\n" + ROUTE, "egress.yaml", NO_ENV);
        assertEquals(Duration.ofSeconds(5), cfg.timeouts().connect());
        assertEquals(new HostPort("127.0.0.1", 8080), cfg.server().listen());
        assertEquals(1000, cfg.upstream("a").limits().maxQueue());
    }

    @Test
    void anUnknownKeyAndARouteNamingAMissingUpstreamAreReportedTogether() {
        InvalidConfigException e = invalid("server:\n  lisen: 127.0.0.1:1\n" + UPSTREAM
                + "routes:\n  - { prefix: /v1, upstreams: [b] }\n");
        assertEquals(2, e.problems().size(), e.getMessage());
        assertTrue(e.getMessage().contains("egress.yaml:2: server.lisen: unknown key"), e.getMessage());
        assertTrue(e.getMessage().contains("egress.yaml:7: routes[0].upstreams[0]: unknown upstream \"b\""), e.getMessage());
    }

    @Test
    void aMissingKeyInsideARouteNamesTheRoutesLine() {
        InvalidConfigException e = invalid(UPSTREAM + "routes:\n  - { prefx: /v1, upstreams: [a] }\n");
        assertTrue(e.getMessage().contains("egress.yaml:5: routes[0].prefx: unknown key"), e.getMessage());
        assertTrue(e.getMessage().contains("egress.yaml:5: routes[0].prefix: missing"), e.getMessage());
    }

    @Test
    void shapeProblemsUnsetVariablesAndMappingProblemsAreReportedTogether() {
        InvalidConfigException e = invalid("timeouts: [1]\nproxy:\n  https: ${NOPE}\n" + UPSTREAM
                + "routes:\n  - { prefix: v1, upstreams: [a] }\n");
        String m = e.getMessage();
        assertEquals(3, e.problems().size(), m);
        assertTrue(m.contains("egress.yaml:1: timeouts: got a list"), m);
        assertTrue(m.contains("egress.yaml:3: proxy.https: environment variable NOPE is not set"), m);
        assertTrue(m.contains("routes[0].prefix: \"v1\" (expected: a path starting with /"), m);
    }
}
