package io.modelegress.core.ratelimit;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class GoDurationTest {
    @ParameterizedTest(name = "\"{0}\" -> {1} ns")
    @CsvSource(delimiter = '|', value = {
        // OpenAI's x-ratelimit-reset-* (Go time.Duration text)
        "1s          | 1000000000",
        "6m0s        | 360000000000",
        "20ms        | 20000000",
        "12ms        | 12000000",
        "1m30.5s     | 90500000000",
        "2h          | 7200000000000",
        "1h2m3s      | 3723000000000",
        "0s          | 0",
        "100us       | 100000",
        "100\u00b5s  | 100000",
        "100\u03bcs  | 100000",
        "3ns         | 3",
        "0.5ms       | 500000",
        // Azure OpenAI and retry-after: plain seconds
        "0           | 0",
        "7           | 7000000000",
        "0.25        | 250000000",
        "' 30 '      | 30000000000",
    })
    void parsesGoDurationsAndPlainSeconds(String text, long nanos) {
        assertEquals(nanos, GoDuration.parseNanos(text));
    }

    @ParameterizedTest(name = "\"{0}\" is not a duration")
    @CsvSource({"''", "abc", "1x", "-1s", "-3", "s", "1.2.3s", "1 s", "ms5", "."})
    void rejectsWhatIsNotADuration(String text) {
        assertEquals(GoDuration.INVALID, GoDuration.parseNanos(text));
    }
}
