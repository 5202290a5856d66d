package io.modelegress.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ResponsesAffinityConfigTest {
    private static final String BASE = "upstreams: { a: { url: \"http://127.0.0.1:8000\" } }\n"
            + "routes: [ { prefix: /v1, upstreams: [a] } ]\n";

    private static EgressConfig parse(String yaml) throws Exception { return ConfigLoader.parse(yaml, "egress.yaml", k -> null); }

    @Test
    void onByDefaultWithTwentyThousandIdsForADay() throws Exception {
        ResponsesAffinitySettings r = parse(BASE).server().responsesAffinity();
        assertEquals(new ResponsesAffinitySettings(20_000, Duration.ofHours(24)), r);
        assertTrue(r.enabled());
    }

    @Test
    void readAsWrittenAndZeroEntriesIsOff() throws Exception {
        assertEquals(new ResponsesAffinitySettings(500, Duration.ofMinutes(30)),
                parse("server: { responses_affinity: { max_entries: 500, ttl: 30m } }\n" + BASE).server().responsesAffinity());
        assertFalse(parse("server: { responses_affinity: { max_entries: 0 } }\n" + BASE).server().responsesAffinity().enabled());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "negative entries | { max_entries: -1 } | server.responses_affinity.max_entries: -1 (expected: an integer >= 0)",
        "too many entries | { max_entries: 2000000 } | server.responses_affinity.max_entries: 2000000 (expected: 0 for off, or at most 1000000)",
        "zero ttl         | { ttl: 0s } | server.responses_affinity.ttl: 0s (expected: a duration > 0",
        "not a duration   | { ttl: soon } | server.responses_affinity.ttl",
        "unknown key      | { max_entry: 5 } | server.responses_affinity.max_entry: unknown key (did you mean \"max_entries\"?)",
    })
    void badSettingsNameTheKey(String name, String block, String expected) {
        InvalidConfigException e = assertThrows(InvalidConfigException.class,
                () -> parse("server: { responses_affinity: " + block + " }\n" + BASE));
        assertTrue(e.getMessage().contains(expected), () -> name + ": " + e.getMessage());
    }
}
