package io.modelegress.core.ratelimit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.modelegress.core.time.ManualTicker;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class RateLimitHeadersTest {
    /** 2023-11-14T22:13:20Z on the wall clock, 5 s on the monotonic one. */
    private final ManualTicker ticker = new ManualTicker(1_700_000_000_000L);

    RateLimitHeadersTest() {
        ticker.advance(Duration.ofSeconds(5));
    }

    private RateLimitSnapshot parse(String... nameValues) {
        Map<String, String> headers = new HashMap<>();
        for (int i = 0; i < nameValues.length; i += 2) headers.put(nameValues[i], nameValues[i + 1]);
        return RateLimitHeaders.parse(headers::get, ticker);
    }

    private long in(Duration d) {
        return ticker.nanos() + d.toNanos();
    }

    private String wallIn(Duration d) {
        return Instant.ofEpochMilli(ticker.wallMillis()).plus(d).toString();
    }

    @Test
    void readsOpenAisRequestAndTokenQuotas() {
        RateLimitSnapshot s = parse(
                "x-ratelimit-limit-requests", "5000", "x-ratelimit-remaining-requests", "4999",
                "x-ratelimit-reset-requests", "12ms",
                "x-ratelimit-limit-tokens", "160000", "x-ratelimit-remaining-tokens", "159976",
                "x-ratelimit-reset-tokens", "6m0s");
        assertEquals(new QuotaReading(5000, 4999, ticker.nanos(), in(Duration.ofMillis(12))),
                s.readings().get(QuotaKind.REQUESTS));
        assertEquals(new QuotaReading(160_000, 159_976, ticker.nanos(), in(Duration.ofMinutes(6))),
                s.readings().get(QuotaKind.TOKENS));
        assertFalse(s.hasRetryAfter());
    }

    @ParameterizedTest(name = "reset \"{0}\" is {1} ms away")
    @CsvSource({
        "1s,        1000",
        "6m0s,    360000",
        "20ms,        20",
        "1m30.5s,  90500",
        "17,       17000",   // Azure OpenAI: plain seconds
        "0,            0",
    })
    void readsEveryDurationFormOfTheReset(String reset, long millis) {
        RateLimitSnapshot s = parse("x-ratelimit-remaining-tokens", "0", "x-ratelimit-reset-tokens", reset);
        assertEquals(in(Duration.ofMillis(millis)), s.readings().get(QuotaKind.TOKENS).resetAtNanos());
        assertEquals(QuotaReading.UNKNOWN, s.readings().get(QuotaKind.TOKENS).limit());
    }

    @Test
    void readsAnthropicsFourQuotasWithRfc3339Resets() {
        RateLimitSnapshot s = parse(
                "anthropic-ratelimit-requests-limit", "50", "anthropic-ratelimit-requests-remaining", "49",
                "anthropic-ratelimit-requests-reset", wallIn(Duration.ofSeconds(1)),
                "anthropic-ratelimit-tokens-limit", "48000", "anthropic-ratelimit-tokens-remaining", "47000",
                "anthropic-ratelimit-tokens-reset", wallIn(Duration.ofSeconds(2)),
                "anthropic-ratelimit-input-tokens-limit", "40000", "anthropic-ratelimit-input-tokens-remaining", "39000",
                "anthropic-ratelimit-input-tokens-reset", wallIn(Duration.ofSeconds(3)),
                "anthropic-ratelimit-output-tokens-limit", "8000", "anthropic-ratelimit-output-tokens-remaining", "0",
                "anthropic-ratelimit-output-tokens-reset", wallIn(Duration.ofSeconds(45)));
        assertEquals(4, s.readings().size());
        assertEquals(new QuotaReading(50, 49, ticker.nanos(), in(Duration.ofSeconds(1))),
                s.readings().get(QuotaKind.REQUESTS));
        assertEquals(new QuotaReading(8000, 0, ticker.nanos(), in(Duration.ofSeconds(45))),
                s.readings().get(QuotaKind.OUTPUT_TOKENS));
        assertEquals(in(Duration.ofSeconds(45)), s.exhaustedUntilNanos());
    }

    @ParameterizedTest(name = "RFC 3339 \"{0}\" is {1} ms away")
    @CsvSource({
        "2023-11-14T22:13:30Z,           5000",    // the wall clock reads 22:13:25 here
        "2023-11-14T22:13:30.250Z,       5250",
        "2023-11-14T23:13:30+01:00,      5000",
        "2023-11-14T17:13:30.5-05:00,    5500",
        "2023-11-14T22:13:00Z,              0",    // in the past (clock skew): free now
    })
    void readsRfc3339ResetsInAnyOffset(String reset, long millis) {
        RateLimitSnapshot s = parse("anthropic-ratelimit-requests-remaining", "0",
                "anthropic-ratelimit-requests-reset", reset);
        assertEquals(in(Duration.ofMillis(millis)), s.readings().get(QuotaKind.REQUESTS).resetAtNanos());
    }

    @Test
    void ignoresAzuresMinusOneAndMalformedValues() {
        RateLimitSnapshot s = parse(
                "x-ratelimit-limit-tokens", "-1", "x-ratelimit-remaining-tokens", "-1", "x-ratelimit-reset-tokens", "0",
                "x-ratelimit-remaining-requests", "lots", "x-ratelimit-reset-requests", "1s",
                "anthropic-ratelimit-input-tokens-remaining", "10", "anthropic-ratelimit-input-tokens-reset", "soon",
                "anthropic-ratelimit-output-tokens-remaining", "10");
        assertTrue(s.isEmpty());
    }

    @ParameterizedTest(name = "{0}: {1} -> {2} ns")
    @CsvSource({
        "retry-after,    7,                               7000000000",
        "retry-after,    1.5,                             1500000000",
        "retry-after,    'Tue, 14 Nov 2023 22:13:45 GMT', 20000000000",
        "retry-after-ms, 250,                              250000000",
        "retry-after-ms, 12.5,                              12500000",
    })
    void readsTheRetryAfterHint(String name, String value, long nanos) {
        assertEquals(in(Duration.ofNanos(nanos)), parse(name, value).retryAtNanos());
    }

    @Test
    void prefersRetryAfterMsToRetryAfter() {
        RateLimitSnapshot s = parse("retry-after", "2", "retry-after-ms", "1500");
        assertEquals(in(Duration.ofMillis(1500)), s.retryAtNanos());
    }

    @Test
    void aResponseWithoutRateLimitHeadersSaysNothing() {
        assertTrue(parse("content-type", "application/json").isEmpty());
        assertTrue(parse("retry-after", "whenever").isEmpty());
    }
}
