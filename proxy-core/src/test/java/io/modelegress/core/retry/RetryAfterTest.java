package io.modelegress.core.retry;

import io.modelegress.core.time.ManualTicker;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;

class RetryAfterTest {
    // 1994-11-06T08:49:30Z: seven seconds before the RFC's example date.
    private static final long NOW = Instant.parse("1994-11-06T08:49:30Z").toEpochMilli();
    private final ManualTicker ticker = new ManualTicker(NOW);

    private static Function<String, String> headers(String... nameValues) {
        Map<String, String> map = new HashMap<>();
        for (int i = 0; i < nameValues.length; i += 2) map.put(nameValues[i].toLowerCase(Locale.ROOT), nameValues[i + 1]);
        return name -> map.get(name.toLowerCase(Locale.ROOT));
    }

    @ParameterizedTest(name = "Retry-After: \"{0}\" -> {1}")
    @CsvSource(delimiter = '|', nullValues = "none", value = {
            "120                             | PT2M",
            "0                               | PT0S",
            "' 5 '                           | PT5S",
            "1.5                             | PT1.5S",      // not RFC, but the SDKs accept it
            "Sun, 06 Nov 1994 08:49:37 GMT   | PT7S",        // IMF-fixdate
            "Sunday, 06-Nov-94 08:49:37 GMT  | PT7S",        // obsolete RFC 850
            "Sun Nov  6 08:49:37 1994        | PT7S",        // obsolete asctime
            "Sun, 06 Nov 1994 08:49:00 GMT   | PT0S",        // already past: now
            "-5                              | none",
            "+5                              | none",
            "5s                              | none",
            "1e3                             | none",
            "NaN                             | none",
            "Infinity                        | none",
            "soon                            | none",
            "''                              | none",
            "Mon, 06 Nov 1994 08:49:37 GMT   | none",        // wrong weekday: not a real date
    })
    void readsRetryAfterAsSecondsOrHttpDate(String value, Duration expected) {
        assertEquals(Optional.ofNullable(expected), RetryAfter.parse(headers("Retry-After", value), ticker));
    }

    @ParameterizedTest(name = "{0}: \"{1}\" -> {2}")
    @CsvSource(delimiter = '|', nullValues = "none", value = {
            "retry-after-ms      | 1500     | PT1.5S",
            "retry-after-ms      | 20.5     | PT0.0205S",
            "x-ms-retry-after-ms | 250      | PT0.25S",
            "retry-after-ms      | -1       | none",
            "x-ms-retry-after-ms | garbage  | none",
    })
    void readsMillisecondHeaders(String name, String value, Duration expected) {
        assertEquals(Optional.ofNullable(expected), RetryAfter.parse(headers(name, value), ticker));
    }

    @Test
    void millisecondHeaderWinsOverRetryAfter() {
        assertEquals(Optional.of(Duration.ofMillis(1500)),
                RetryAfter.parse(headers("Retry-After", "9", "retry-after-ms", "1500"), ticker));
    }

    @Test
    void openAiMillisecondHeaderWinsOverAzureOne() {
        assertEquals(Optional.of(Duration.ofMillis(100)),
                RetryAfter.parse(headers("x-ms-retry-after-ms", "900", "retry-after-ms", "100"), ticker));
    }

    @Test
    void unreadableMillisecondHeaderFallsThroughToRetryAfter() {
        assertEquals(Optional.of(Duration.ofSeconds(3)),
                RetryAfter.parse(headers("retry-after-ms", "later", "Retry-After", "3"), ticker));
    }

    @Test
    void noHeadersGiveNoHint() {
        assertEquals(Optional.empty(), RetryAfter.parse(headers(), ticker));
    }

    @Test
    void httpDateIsMeasuredFromTheTickersWallClock() {
        ticker.advance(Duration.ofSeconds(5));
        assertEquals(Optional.of(Duration.ofSeconds(2)),
                RetryAfter.parse(headers("Retry-After", "Sun, 06 Nov 1994 08:49:37 GMT"), ticker));
    }

    @ParameterizedTest(name = "absurd \"{0}\" is capped, not overflowed")
    @CsvSource({"99999999999999999999999", "99999999999999999999.5"})
    void absurdValuesAreCappedAtAYear(String value) {
        assertEquals(Optional.of(RetryAfter.MAX_HINT), RetryAfter.parse(headers("Retry-After", value), ticker));
        assertEquals(Optional.of(RetryAfter.MAX_HINT), RetryAfter.parse(headers("retry-after-ms", value), ticker));
    }

    @Test
    void farFutureDateIsCappedAtAYear() {
        assertEquals(Optional.of(RetryAfter.MAX_HINT),
                RetryAfter.parse(headers("Retry-After", "Fri, 01 Jan 2100 00:00:00 GMT"), ticker));
    }
}
