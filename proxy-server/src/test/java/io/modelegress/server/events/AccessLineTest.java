package io.modelegress.server.events;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.io.JsonStringEncoder;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The access-log line built off the event loop says what the line built with String.format and Jackson said. */
class AccessLineTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static String build(AccessLine l) {
        return l.appendTo(new StringBuilder()).toString();
    }

    @ParameterizedTest
    @ValueSource(longs = {0, 1, 499, 500, 999, 1_000, 1_499, 1_500, 999_499, 999_500, 1_234_567, 12_345_678_901L, 86_400_000_000_000L})
    void millisecondsHaveThreeDecimalsRoundedLikeStringFormat(long nanos) {
        StringBuilder b = new StringBuilder();
        AccessLine.millis(b, nanos);
        assertEquals(String.format(Locale.ROOT, "%.3f", nanos / 1e6), b.toString());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "/v1/chat/completions", "/a\"b\\c", "/tab\there/nl\nend\r", "/ctl\u0001\u001f\b\f", "/é/ü/漢字"})
    void stringsAreEscapedAsJacksonEscapesThem(String s) {
        assertEquals(new String(JsonStringEncoder.getInstance().quoteAsString(s)), AccessLine.escaped(new StringBuilder(), s).toString());
    }

    @Test
    void aFullLineIsOneJsonObjectWithEveryField() throws Exception {
        AccessLine l = new AccessLine("id\"1", "POST", "/v1/chat/completions?x=\"y\"", "openai", "api", "req_9", 502,
                "upstream_reset", 2, true, "resumed", 1_500_000, 2_000_001, 30_000_000, 1_234_567_890, 1024, 77, "ntlm", "h2", "open");
        String line = build(l);
        JsonNode n = JSON.readTree(line);
        assertEquals("id\"1", n.get("request_id").asText());
        assertEquals("/v1/chat/completions?x=\"y\"", n.get("path").asText());
        assertEquals("req_9", n.get("upstream_request_id").asText());
        assertEquals(502, n.get("status").asInt());
        assertEquals("upstream_reset", n.get("error").asText());
        assertEquals(2, n.get("attempts").asInt());
        assertEquals(true, n.get("stream").asBoolean());
        assertTrue(line.contains("\"queue_ms\":1.500,"), line);
        assertEquals(2.0, n.get("connect_ms").asDouble());
        assertEquals(30.0, n.get("ttfb_ms").asDouble());
        assertEquals(1234.568, n.get("duration_ms").asDouble());
        assertEquals(1024, n.get("bytes_in").asLong());
        assertEquals("ntlm", n.get("proxy_auth").asText());
        assertEquals("h2", n.get("upstream_protocol").asText());
        assertEquals("open", n.get("websocket").asText());
    }

    @Test
    void whatDidNotHappenIsNull() throws Exception {
        AccessLine l = new AccessLine("i", "GET", "/x", "-", "-", null, 404, null, 0, false, null, 0, -1, -1, 5_000, 0, 10,
                null, null, null);
        String line = build(l);
        assertEquals("{\"request_id\":\"i\",\"method\":\"GET\",\"path\":\"/x\",\"route\":\"-\",\"upstream\":\"-\","
                + "\"upstream_request_id\":null,\"status\":404,\"error\":null,\"attempts\":0,\"stream\":false,\"resume\":null,"
                + "\"queue_ms\":0.000,\"connect_ms\":null,\"ttfb_ms\":null,\"duration_ms\":0.005,\"bytes_in\":0,\"bytes_out\":10,"
                + "\"proxy_auth\":null,\"upstream_protocol\":null}", line);
        JSON.readTree(line);
    }
}
