package io.modelegress.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A credential or header from config, the environment or a file becomes one header line upstream: a CR, LF, NUL or
 * other control character in it would put a second header on the wire. Such a value is a config problem at load
 * (and so at reload), and a file that turns bad later is never sent; messages say where it came from, never what it is.
 */
class CredentialValidationTest {
    @TempDir
    Path dir;

    private static final String ROUTE = "routes:\n  - { prefix: /v1, upstreams: [a] }\n";

    private static String upstreamWithAuth(String auth) {
        return "upstreams:\n  a:\n    url: https://a.example\n    auth: " + auth + "\n" + ROUTE;
    }

    private static InvalidConfigException invalid(String yaml, Function<String, String> env) {
        return assertThrows(InvalidConfigException.class, () -> ConfigLoader.parse(yaml, "egress.yaml", env));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "CRLF and a second header | Bearer x\\r\\nX-Injected: 1 | LF",
        "a bare LF                | Bearer x\\nX-Injected: 1   | LF",
        "a bare CR                | Bearer x\\rX-Injected: 1   | CR",
        "NUL                      | Bearer x\\0y               | NUL",
        "another control          | Bearer x\\ay               | U+0007",
    })
    void aLiteralValueWithAControlCharacterIsAConfigProblem(String name, String value, String what) {
        InvalidConfigException e = invalid(upstreamWithAuth("{ header: Authorization, value: \"" + value + "\" }"), k -> null);
        String m = e.getMessage();
        assertTrue(m.contains("egress.yaml:4: upstreams.a.auth.value: "), m);
        assertTrue(m.contains(what), name + ": " + m);
        assertTrue(m.contains("literal"), m);
        assertFalse(m.contains("Injected") || m.contains("Bearer x"), "the value leaked: " + m);
    }

    @Test
    void anEnvironmentVariableWithALineBreakIsAConfigProblemNamingTheVariable() {
        InvalidConfigException e = invalid(upstreamWithAuth("{ header: Authorization, value: \"Bearer ${K}\" }"),
                Map.of("K", "sk-123\r\nX-Injected: 1")::get);
        String m = e.getMessage();
        assertTrue(m.contains("egress.yaml:4: upstreams.a.auth.value: "), m);
        assertTrue(m.contains("${K}"), m);
        assertFalse(m.contains("sk-123") || m.contains("Injected"), "the value leaked: " + m);
    }

    @Test
    void aValueFileWithAnInnerNewlineIsAConfigProblemNamingTheFile() throws Exception {
        Path key = Files.writeString(dir.resolve("key"), "Bearer sk-123\nX-Injected: 1\n");
        InvalidConfigException e = invalid(upstreamWithAuth("{ header: Authorization, value_file: " + key + " }"), k -> null);
        String m = e.getMessage();
        assertTrue(m.contains("egress.yaml:4: upstreams.a.auth.value_file: "), m);
        assertTrue(m.contains(key.toString()), m);
        assertFalse(m.contains("sk-123") || m.contains("Injected"), "the value leaked: " + m);
    }

    @Test
    void oneTrailingNewlineInAValueFileIsTrimmedAsBefore() throws Exception {
        Path key = Files.writeString(dir.resolve("key"), "Bearer sk-123\n");
        EgressConfig cfg = ConfigLoader.parse(upstreamWithAuth("{ header: Authorization, value_file: " + key + " }"),
                "egress.yaml", k -> null);
        assertEquals("Bearer sk-123", cfg.upstream("a").auth().value().current().value());
    }

    @Test
    void aHeaderNameWithALineBreakIsRejectedAndShownEscaped() {
        InvalidConfigException e = invalid(upstreamWithAuth("{ header: \"Authorization\\r\\nX-Injected\", value: x }"), k -> null);
        String m = e.getMessage();
        assertTrue(m.contains("upstreams.a.auth.header: \"Authorization\\r\\nX-Injected\" (expected: an HTTP header name"), m);
        assertFalse(m.contains("\r") || m.contains("\nX-Injected"), "raw control characters in the message: " + m);
    }

    @Test
    void proxyCredentialsWithAControlCharacterAreAConfigProblem() throws Exception {
        Path pw = Files.writeString(dir.resolve("pw"), "pa\nss\n");
        InvalidConfigException e = invalid("proxy:\n  auth: { username: \"u\\r\\nX: 1\", password_file: " + pw + " }\n"
                + upstreamWithAuth("{ header: Authorization, value: x }"), k -> null);
        String m = e.getMessage();
        assertTrue(m.contains("proxy.auth.username: "), m);
        assertTrue(m.contains("proxy.auth.password_file: "), m);
        assertFalse(m.contains("pa") && m.contains("ss\""), m);
    }

    @Test
    void aCredentialFileThatTurnsBadIsNeverUsedAndSaysWhy() throws Exception {
        Path key = Files.writeString(dir.resolve("key"), "Bearer old\n");
        SecretSource s = SecretSource.ofFile(key);
        assertEquals("Bearer old", s.current().value());
        Files.writeString(key, "Bearer sk-new\r\nX-Injected: 1\n");
        assertTrue(s.refresh());
        SecretSource.Resolved r = s.current();
        assertFalse(r.present(), "an invalid value is never handed out");
        assertTrue(r.invalid());
        assertTrue(r.missingReason().contains(key.toString()), r.missingReason());
        assertFalse(r.missingReason().contains("sk-new") || r.missingReason().contains("Injected"), r.missingReason());
        assertFalse(r.toString().contains("sk-new"), r.toString());
        Files.writeString(key, "Bearer fixed\n");
        assertTrue(s.refresh());
        assertEquals("Bearer fixed", s.current().value());
    }
}
