package io.modelegress.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.modelegress.core.proxy.ProxyDecision;
import io.modelegress.core.proxy.ProxyResolver;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** proxy.https as a failover list, proxy.pac and its keys, proxy.auth schemes: loaded, defaulted and checked. */
class ProxyConfigTest {
    private static final String UPSTREAMS = """
            upstreams:
              openai: { url: https://api.openai.com }
            routes:
              - { name: openai, prefix: /v1, upstreams: [openai] }
            """;

    private static EgressConfig load(String proxyBlock) throws Exception {
        return ConfigLoader.parse(proxyBlock + UPSTREAMS, "egress.yaml", k -> null);
    }

    private static String problems(String proxyBlock) {
        return assertThrows(InvalidConfigException.class, () -> load(proxyBlock)).getMessage();
    }

    @Test
    void aListOfHttpsProxiesIsAFailoverListInOrder() throws Exception {
        EgressConfig cfg = load("proxy: { use_environment: false, https: [\"http://a:3128\", \"http://b:3128\"] }\n");
        assertEquals(List.of("http://a:3128", "http://b:3128"), cfg.proxy().httpsProxies());
        ProxyDecision d = new ProxyResolver(cfg.proxy(), Map.of()).resolve("https", "api.openai.com", 443);
        assertEquals(2, d.steps().size());
        assertEquals("http://b:3128", d.steps().get(1).proxy().masked());
        assertEquals("proxy.https[1]", d.steps().get(1).source());
        assertEquals("proxy.https (https upstream) = http://a:3128, then http://b:3128", d.reason());
    }

    @Test
    void oneProxyAsAStringStaysWhatItWas() throws Exception {
        EgressConfig cfg = load("proxy: { use_environment: false, https: \"http://a:3128\" }\n");
        ProxyDecision d = new ProxyResolver(cfg.proxy(), Map.of()).resolve("https", "api.openai.com", 443);
        assertEquals("proxy.https (https upstream) = http://a:3128", d.reason());
        assertEquals(1, d.steps().size());
    }

    @Test
    void pacKeysHaveDefaults() throws Exception {
        EgressConfig cfg = load("proxy: { pac: \"file:///etc/egress/proxy.pac\" }\n");
        assertEquals("file:///etc/egress/proxy.pac", cfg.proxy().pac());
        assertEquals(Duration.ofMinutes(5), cfg.proxy().pacRefresh());
        assertEquals(Duration.ofSeconds(1), cfg.proxy().pacTimeout());
        assertEquals(Duration.ofSeconds(30), cfg.proxy().ejectFor());
        ProxyDecision d = new ProxyResolver(cfg.proxy(), Map.of()).resolve("https", "api.openai.com", 443);
        assertTrue(d.pac(), d.toString());
        ProxyDecision loopback = new ProxyResolver(cfg.proxy(), Map.of()).resolve("https", "127.0.0.1", 443);
        assertTrue(loopback.isDirect(), "loopback is direct before the PAC is asked: " + loopback);
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @CsvSource(delimiter = '|', textBlock = """
            proxy: { pac: "ftp://x/p.pac" }                                        | proxy.pac                | expected: file:///path/proxy.pac
            proxy: { pac: wpad, https: "http://a:1" }                              | proxy.pac                | either a PAC file or explicit proxies
            proxy: { pac: wpad, pac_refresh: 500ms }                                | proxy.pac_refresh        | at least 1s
            proxy: { https: ["http://a:1", "gopher://b"] }                         | proxy.https              | entry [1]: invalid proxy URL "gopher://b"
            proxy: { auth: { scheme: kerberos } }                                  | proxy.auth.scheme        | basic, ntlm, negotiate or auto
            proxy: { auth: { scheme: ntlm } }                                      | proxy.auth.username      | for scheme ntlm
            proxy: { auth: { scheme: negotiate, keytab: /nonexistent/k.keytab, principal: a@B } } | proxy.auth.keytab | not a readable file
            """)
    void badProxySettingsNameTheKey(String yaml, String key, String expected) {
        String msg = problems(yaml + "\n");
        assertTrue(msg.contains(key) && msg.contains(expected), msg);
    }

    @Test
    void authSchemesLoadWithTheirKeys() throws Exception {
        EgressConfig cfg = load("proxy: { auth: { scheme: NTLM, domain: CORP, username: alice, password: pw } }\n");
        assertEquals("ntlm", cfg.proxyAuth().scheme());
        assertEquals("CORP", cfg.proxyAuth().domain());
        assertEquals("ntlm alice:***", cfg.proxyAuth().toString());
        EgressConfig neg = load("proxy: { auth: { scheme: negotiate, spn: \"HTTP/proxy.corp@CORP.EXAMPLE\" } }\n");
        assertTrue(neg.proxyAuth().configured());
        assertEquals("HTTP/proxy.corp@CORP.EXAMPLE", neg.proxyAuth().spn());
    }
}
