package io.modelegress.core.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.modelegress.core.config.ProxySettings;
import java.net.URI;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ProxyResolverTest {

    private static final String CORP = "http://user:s3cret@proxy.corp:3128";

    /** "K=V;K2=V2"; "-" is the empty environment. */
    static Map<String, String> environment(String text) {
        Map<String, String> env = new HashMap<>();
        if (text == null || text.equals("-")) return env;
        for (String pair : text.split(";")) {
            int eq = pair.indexOf('=');
            env.put(pair.substring(0, eq).strip(), pair.substring(eq + 1).strip());
        }
        return env;
    }

    static ProxySettings settings(boolean useEnvironment, String https, String http, String noProxy) {
        List<String> entries = noProxy == null ? List.of() : Arrays.asList(noProxy.split(","));
        return new ProxySettings(useEnvironment, https, http, entries);
    }

    static ProxyDecision decide(ProxySettings settings, String env, String upstreamProxy, String target) {
        URI uri = URI.create(target);
        return new ProxyResolver(settings, environment(env)).resolve("openai", upstreamProxy, uri.getScheme(), uri.getHost(), uri.getPort());
    }

    private static void assertDecision(ProxyDecision decision, String expectedProxy, String expectedReason) {
        switch (expectedProxy) {
            case "direct" -> assertTrue(decision.isDirect(), decision.toString());
            case "failed" -> assertTrue(decision.failed(), decision.toString());
            default -> assertEquals(expectedProxy, decision.proxy().masked(), decision.toString());
        }
        assertEquals(expectedReason, decision.reason());
        assertFalse(decision.reason().contains("s3cret"), "a reason never shows a password");
        assertFalse(decision.toString().contains("s3cret"), "a decision never shows a password");
    }

    // The precedence of sources, most specific first (docs/no-proxy.md, "Where the proxy comes from").
    @ParameterizedTest(name = "[{index}] {6} with upstream proxy {5} and env {4} -> {7}")
    @CsvSource(delimiter = '|', nullValues = "-", textBlock = """
            # use_env | proxy.https         | proxy.http     | proxy.no_proxy      | environment                                        | upstream            | target                         | proxy                                  | reason
            false     | -                   | -              | -                   | HTTPS_PROXY=http://env:3128                        | -                   | https://api.openai.com         | direct                                 | no proxy configured (proxy.https unset, proxy.use_environment off)
            true      | -                   | -              | -                   | -                                                  | -                   | https://api.openai.com         | direct                                 | no proxy configured (proxy.use_environment on; HTTPS_PROXY, ALL_PROXY unset)
            true      | -                   | -              | -                   | HTTPS_PROXY=http://user:s3cret@proxy.corp:3128     | -                   | https://api.openai.com         | http://user:***@proxy.corp:3128        | HTTPS_PROXY (https upstream) = http://user:***@proxy.corp:3128
            true      | -                   | -              | -                   | https_proxy=http://lower:3128                      | -                   | https://api.openai.com         | http://lower:3128                      | https_proxy (https upstream) = http://lower:3128
            true      | -                   | -              | -                   | https_proxy=http://lower:3128;HTTPS_PROXY=http://upper:3128 | -          | https://api.openai.com         | http://lower:3128                      | https_proxy (https upstream; HTTPS_PROXY also set, lower case wins) = http://lower:3128
            true      | -                   | -              | -                   | https_proxy=;HTTPS_PROXY=http://upper:3128         | -                   | https://api.openai.com         | http://upper:3128                      | HTTPS_PROXY (https upstream) = http://upper:3128
            true      | -                   | -              | -                   | https_proxy=  ;HTTPS_PROXY=                        | -                   | https://api.openai.com         | direct                                 | no proxy configured (proxy.use_environment on; HTTPS_PROXY, ALL_PROXY unset)
            true      | -                   | -              | -                   | HTTPS_PROXY=proxy.corp:3128                        | -                   | https://api.openai.com         | http://proxy.corp:3128                 | HTTPS_PROXY (https upstream) = http://proxy.corp:3128
            true      | -                   | -              | -                   | HTTPS_PROXY=http://proxy.corp:3128                 | -                   | http://api.local.test          | direct                                 | no proxy configured (proxy.use_environment on; HTTP_PROXY, ALL_PROXY unset)
            true      | -                   | -              | -                   | HTTP_PROXY=http://plain:3128                       | -                   | https://api.openai.com         | direct                                 | no proxy configured (proxy.use_environment on; HTTPS_PROXY, ALL_PROXY unset)
            true      | -                   | -              | -                   | HTTP_PROXY=http://plain:3128                       | -                   | http://api.local.test          | http://plain:3128                      | HTTP_PROXY (http upstream) = http://plain:3128
            true      | -                   | -              | -                   | HTTP_PROXY=http://evil:3128;REQUEST_METHOD=GET     | -                   | http://api.local.test          | direct                                 | no proxy configured (proxy.use_environment on; http_proxy, ALL_PROXY unset; HTTP_PROXY ignored: REQUEST_METHOD is set (CGI, httpoxy))
            true      | -                   | -              | -                   | http_proxy=http://plain:3128;REQUEST_METHOD=GET    | -                   | http://api.local.test          | http://plain:3128                      | http_proxy (http upstream) = http://plain:3128
            true      | -                   | -              | -                   | HTTPS_PROXY=http://s:3128;REQUEST_METHOD=GET       | -                   | https://api.openai.com         | http://s:3128                          | HTTPS_PROXY (https upstream) = http://s:3128
            true      | -                   | -              | -                   | ALL_PROXY=socks5h://gw.corp                        | -                   | https://api.openai.com         | socks5h://gw.corp:1080                 | ALL_PROXY (https upstream; HTTPS_PROXY unset) = socks5h://gw.corp:1080
            true      | -                   | -              | -                   | all_proxy=socks5://gw.corp:9050                    | -                   | http://api.local.test          | socks5://gw.corp:9050                  | all_proxy (http upstream; HTTP_PROXY unset) = socks5://gw.corp:9050
            true      | -                   | -              | -                   | HTTPS_PROXY=http://s:3128;ALL_PROXY=socks5h://gw   | -                   | https://api.openai.com         | http://s:3128                          | HTTPS_PROXY (https upstream) = http://s:3128
            true      | http://cfg:3128     | -              | -                   | HTTPS_PROXY=http://env:3128                        | -                   | https://api.openai.com         | http://cfg:3128                        | proxy.https (https upstream) = http://cfg:3128
            false     | http://cfg:3128     | -              | -                   | -                                                  | -                   | https://api.openai.com         | http://cfg:3128                        | proxy.https (https upstream) = http://cfg:3128
            false     | -                   | http://cfg:80  | -                   | -                                                  | -                   | https://api.openai.com         | direct                                 | no proxy configured (proxy.https unset, proxy.use_environment off)
            false     | -                   | http://cfg:80  | -                   | -                                                  | -                   | http://api.local.test          | http://cfg:80                          | proxy.http (http upstream) = http://cfg:80
            true      | -                   | http://cfg:80  | -                   | HTTPS_PROXY=http://env:3128                        | -                   | https://api.openai.com         | http://env:3128                        | HTTPS_PROXY (https upstream) = http://env:3128
            false     | http://cfg:3128     | -              | -                   | NO_PROXY=api.openai.com                            | -                   | https://api.openai.com         | http://cfg:3128                        | proxy.https (https upstream) = http://cfg:3128
            true      | http://cfg:3128     | -              | -                   | NO_PROXY=api.openai.com                            | -                   | https://api.openai.com         | direct                                 | NO_PROXY entry "api.openai.com" matches api.openai.com
            true      | -                   | -              | -                   | HTTPS_PROXY=http://s:3128;NO_PROXY=.svc.cluster.local | -                | https://api.svc.cluster.local  | direct                                 | NO_PROXY entry ".svc.cluster.local" matches api.svc.cluster.local
            true      | -                   | -              | -                   | HTTPS_PROXY=http://s:3128;no_proxy=10.0.0.0/8      | -                   | https://10.1.2.3:8443          | direct                                 | no_proxy entry "10.0.0.0/8" matches 10.1.2.3
            true      | -                   | -              | -                   | HTTPS_PROXY=http://s:3128;no_proxy=a.test;NO_PROXY=api.openai.com | -    | https://api.openai.com         | http://s:3128                          | HTTPS_PROXY (https upstream) = http://s:3128
            false     | http://cfg:3128     | -              | .svc.cluster.local  | -                                                  | -                   | https://llm.svc.cluster.local  | direct                                 | proxy.no_proxy entry ".svc.cluster.local" matches llm.svc.cluster.local
            true      | http://cfg:3128     | -              | .svc.cluster.local  | NO_PROXY=api.openai.com                            | -                   | https://api.openai.com         | direct                                 | NO_PROXY entry "api.openai.com" matches api.openai.com
            true      | -                   | -              | -                   | HTTPS_PROXY=http://s:3128;NO_PROXY=*               | -                   | https://api.openai.com         | direct                                 | NO_PROXY entry "*" matches api.openai.com
            true      | -                   | -              | -                   | HTTPS_PROXY=http://s:3128;NO_PROXY=api.openai.com:443 | -                | https://api.openai.com         | direct                                 | NO_PROXY entry "api.openai.com:443" matches api.openai.com:443
            true      | -                   | -              | -                   | HTTPS_PROXY=http://s:3128;NO_PROXY=api.openai.com:8443 | -               | https://api.openai.com         | http://s:3128                          | HTTPS_PROXY (https upstream) = http://s:3128
            true      | -                   | -              | -                   | HTTPS_PROXY=http://s:3128                          | -                   | http://localhost:11434         | direct                                 | no proxy configured (proxy.use_environment on; HTTP_PROXY, ALL_PROXY unset)
            true      | -                   | -              | -                   | HTTP_PROXY=http://s:3128                           | -                   | http://localhost:11434         | direct                                 | localhost is loopback (built-in loopback rule "localhost"): always direct
            true      | -                   | -              | -                   | HTTP_PROXY=http://s:3128                           | -                   | http://127.0.0.1:8000          | direct                                 | 127.0.0.1 is loopback (built-in loopback rule "127.0.0.0/8"): always direct
            true      | -                   | -              | -                   | HTTPS_PROXY=http://s:3128                          | direct              | https://api.openai.com         | direct                                 | upstream "openai" sets proxy: direct
            true      | -                   | -              | -                   | HTTPS_PROXY=http://s:3128                          | DIRECT              | https://api.openai.com         | direct                                 | upstream "openai" sets proxy: direct
            true      | -                   | -              | -                   | HTTPS_PROXY=http://s:3128                          | inherit             | https://api.openai.com         | http://s:3128                          | HTTPS_PROXY (https upstream) = http://s:3128
            true      | http://cfg:3128     | -              | -                   | -                                                  | http://u:s3cret@up:8080 | https://api.openai.com     | http://u:***@up:8080                   | upstream "openai" sets proxy: http://u:***@up:8080
            true      | -                   | -              | -                   | NO_PROXY=api.openai.com                            | socks5h://gw        | https://api.openai.com         | socks5h://gw:1080                      | upstream "openai" sets proxy: socks5h://gw:1080
            true      | -                   | -              | -                   | -                                                  | http://up:8080      | http://localhost:8000          | http://up:8080                         | upstream "openai" sets proxy: http://up:8080
            true      | -                   | -              | -                   | HTTPS_PROXY=ftp://user:s3cret@proxy.corp           | -                   | https://api.openai.com         | failed                                 | HTTPS_PROXY (https upstream) is not usable: invalid proxy URL "ftp://user:***@proxy.corp": unsupported proxy scheme "ftp" (expected: http, https, socks5 or socks5h); fix or unset it
            true      | -                   | -              | -                   | HTTPS_PROXY=http://proxy.corp:99999;NO_PROXY=.openai.com | -             | https://api.openai.com         | direct                                 | NO_PROXY entry ".openai.com" matches api.openai.com
            true      | -                   | -              | -                   | HTTP_PROXY=garbage:x;HTTPS_PROXY=http://s:3128     | -                   | https://api.openai.com         | http://s:3128                          | HTTPS_PROXY (https upstream) = http://s:3128
            true      | -                   | -              | -                   | ALL_PROXY=socks4://gw                              | -                   | https://api.openai.com         | failed                                 | ALL_PROXY (https upstream; HTTPS_PROXY unset) is not usable: invalid proxy URL "socks4://gw": unsupported proxy scheme "socks4" (expected: http, https, socks5 or socks5h); fix or unset it
            """)
    void decidesByTheMostSpecificSourceAndSaysWhich(boolean useEnvironment, String https, String http, String noProxy,
                                                   String env, String upstream, String target, String proxy, String reason) {
        assertDecision(decide(settings(useEnvironment, https, http, noProxy), env, upstream, target), proxy, reason);
    }

    @Test
    void invalidConfigValuesFailAtConstructionNamingTheKey() {
        IllegalArgumentException https = assertThrows(IllegalArgumentException.class,
                () -> new ProxyResolver(settings(false, "ftp://user:s3cret@p", null, null), Map.of()));
        assertTrue(https.getMessage().startsWith("proxy.https: invalid proxy URL \"ftp://user:***@p\""), https.getMessage());
        IllegalArgumentException http = assertThrows(IllegalArgumentException.class,
                () -> new ProxyResolver(settings(false, null, "http://p:0", null), Map.of()));
        assertTrue(http.getMessage().startsWith("proxy.http: "), http.getMessage());
        IllegalArgumentException noProxy = assertThrows(IllegalArgumentException.class,
                () -> new ProxyResolver(settings(false, null, null, "10.0.0.0/40"), Map.of()));
        assertTrue(noProxy.getMessage().startsWith("proxy.no_proxy: entry \"10.0.0.0/40\""), noProxy.getMessage());
    }

    @Test
    void invalidUpstreamProxyFailsNamingTheUpstreamKey() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> UpstreamProxy.parse("azure", "htp://proxy:3128"));
        assertTrue(e.getMessage().startsWith("upstreams.azure.proxy: invalid proxy URL"), e.getMessage());
        assertTrue(e.getMessage().endsWith("(expected: inherit, direct or a proxy URL)"), e.getMessage());
    }

    @Test
    void environmentIsNotReadWhenUseEnvironmentIsOff() {
        ProxyResolver resolver = new ProxyResolver(settings(false, null, null, null),
                environment("HTTPS_PROXY=ftp://x;NO_PROXY=bad*entry;HTTP_PROXY=http://x;REQUEST_METHOD=GET"));
        assertEquals(List.of(), resolver.warnings());
        assertEquals(List.of(), resolver.noProxy().entries());
    }

    @Test
    void warningsListWhatTheEnvironmentHadThatWasNotUsed() {
        ProxyResolver resolver = new ProxyResolver(settings(true, null, null, ".svc.cluster.local"), environment(
                "HTTP_PROXY=http://evil:1;REQUEST_METHOD=GET;NO_PROXY=ok.test,foo*bar;ALL_PROXY=ftp://user:s3cret@x"));
        assertEquals(List.of(
                "HTTP_PROXY ignored: REQUEST_METHOD is set, so it may come from a client's Proxy header (CGI, httpoxy)",
                "NO_PROXY entry \"foo*bar\": '*' is allowed only alone or as a leading \"*.\"; ignored",
                "ALL_PROXY is not usable: invalid proxy URL \"ftp://user:***@x\": unsupported proxy scheme \"ftp\""
                        + " (expected: http, https, socks5 or socks5h); fix or unset it"),
                resolver.warnings());
        assertEquals(List.of(".svc.cluster.local", "ok.test"), resolver.noProxy().entries());
    }

    @Test
    void resolvingThroughAProxyReturnsThePrecomputedDecision() {
        ProxyResolver resolver = new ProxyResolver(settings(true, null, null, null), environment("HTTPS_PROXY=" + CORP));
        ProxyDecision first = resolver.resolve("https", "api.openai.com", 443);
        assertSame(first, resolver.resolve("HTTPS", "api.anthropic.com", 443), "no per-request allocation on the proxied path");
        UpstreamProxy direct = UpstreamProxy.parse("local", "direct");
        assertSame(resolver.resolve(direct, "https", "a", 443), resolver.resolve(direct, "https", "b", 443));
    }

    @Test
    void portZeroOrLessMeansTheSchemesDefaultPort() {
        ProxyResolver resolver = new ProxyResolver(settings(true, null, null, null),
                environment("HTTPS_PROXY=http://s:3128;HTTP_PROXY=http://s:3128;NO_PROXY=a.test:443,b.test:80"));
        assertTrue(resolver.resolve("https", "a.test", -1).isDirect());
        assertTrue(resolver.resolve("http", "b.test", 0).isDirect());
        assertFalse(resolver.resolve("https", "b.test", -1).isDirect());
    }

    @Test
    void refusesTargetSchemesOtherThanHttpAndHttps() {
        ProxyResolver resolver = new ProxyResolver(ProxySettings.none(), Map.of());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> resolver.resolve("ftp", "h", 21));
        assertEquals("scheme: ftp (expected: http or https)", e.getMessage());
    }

    @Test
    void decisionToStringSaysWhereAndWhy() {
        assertEquals("direct: because", ProxyDecision.direct("because").toString());
        assertEquals("via http://u:***@p:1: because", ProxyDecision.via(ProxyUrl.parse("http://u:x@p:1"), "because").toString());
        assertEquals("failed: because", ProxyDecision.failed("because").toString());
        assertNull(ProxyDecision.failed("because").proxy());
        assertThrows(IllegalArgumentException.class, () -> ProxyDecision.direct(""));
        assertThrows(IllegalArgumentException.class, () -> new ProxyDecision(ProxyUrl.parse("p"), "x", true));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(textBlock = """
            http://u:PASS
            http://TOKEN@proxy.corp:PASS
            u:PASS
            """)
    void anUnusableEnvironmentProxyNeverEchoesItsSecret(String value) {
        ProxyResolver r = new ProxyResolver(settings(true, null, null, null), Map.of("HTTPS_PROXY", value));
        ProxyDecision d = r.resolve("https", "api.openai.com", 443);
        assertTrue(d.failed(), d.toString());
        assertFalse(d.toString().contains("PASS") || d.toString().contains("TOKEN"), d.toString());
        assertFalse(String.join(" ", r.warnings()).contains("PASS"), r.warnings().toString());
    }

    @Test
    void aUserNameAloneIsMaskedInTheReason() {
        ProxyDecision d = new ProxyResolver(settings(false, "http://TOKEN@proxy.corp:3128", null, null), Map.of())
                .resolve("https", "api.openai.com", 443);
        assertEquals("http://***@proxy.corp:3128", d.proxy().masked());
        assertFalse(d.toString().contains("TOKEN"), d.toString());
    }
}
