package io.modelegress.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class Http2ConfigTest {
    private static final Function<String, String> NO_ENV = k -> null;

    private static String yaml(String url, String line) {
        return String.join("\n", "upstreams:", "  up:", "    url: " + url, line == null ? "" : "    " + line,
                "routes:", "  - name: chat", "    prefix: /v1", "    upstreams: [up]", "");
    }

    @ParameterizedTest(name = "{0} {1} → {2}, offers h2: {3}")
    @CsvSource(delimiter = '|', value = {
        "https://127.0.0.1:8443 |             | AUTO | true",
        "https://127.0.0.1:8443 | http2: auto | AUTO | true",
        "https://127.0.0.1:8443 | http2: off  | OFF  | false",
        "https://127.0.0.1:8443 | http2: OFF  | OFF  | false",
        "http://127.0.0.1:8000  |             | AUTO | false",
    })
    void http2IsAutoByDefaultAndOfferedOnlyOverTls(String url, String line, UpstreamSettings.Http2Mode mode, boolean offers) throws Exception {
        UpstreamSettings u = ConfigLoader.parse(yaml(url, line), "egress.yaml", NO_ENV).upstream("up");
        assertEquals(mode, u.http2());
        assertEquals(offers, u.offersHttp2());
    }

    @Test
    void unknownHttp2ModeNamesTheKey() {
        InvalidConfigException e = assertThrows(InvalidConfigException.class,
                () -> ConfigLoader.parse(yaml("https://127.0.0.1:8443", "http2: prior"), "egress.yaml", NO_ENV));
        assertTrue(e.getMessage().contains("upstreams.up.http2: \"prior\" (expected: auto or off)"), e.getMessage());
    }
}
