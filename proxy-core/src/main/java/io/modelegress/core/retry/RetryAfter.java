package io.modelegress.core.retry;

import io.modelegress.core.time.Ticker;

import java.math.BigDecimal;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.time.temporal.ChronoField;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * Reads an upstream's "come back in ..." hint from its response headers.
 *
 * <p>Precedence follows the OpenAI and Azure SDKs: the millisecond headers first because they are more precise
 * ({@code retry-after-ms}, then Azure's {@code x-ms-retry-after-ms}), then {@code Retry-After} as delta-seconds
 * or an HTTP-date. A header that is present but unreadable is skipped, so the next one still counts.
 * Unreadable or negative values give no hint; a date already past gives zero (the upstream says "now").
 * Capping is not done here: whether a hint is too long to wait out is the policy's decision.
 */
public final class RetryAfter {
    /** Longer than any sane hint; keeps absurd values from overflowing a {@link Duration} in nanos. */
    static final Duration MAX_HINT = Duration.ofDays(365);

    // Non-negative decimal only: Double.parseDouble would also take "NaN", "1e3", "0x10p0" and "5d".
    private static final Pattern DECIMAL = Pattern.compile("\\d{1,30}(\\.\\d{1,30})?");
    private static final BigDecimal NANOS_PER_MILLI = BigDecimal.valueOf(1_000_000L);
    private static final BigDecimal NANOS_PER_SECOND = BigDecimal.valueOf(1_000_000_000L);

    /** RFC 9110 IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"), then the two obsolete forms it still asks us to read. */
    private static final List<DateTimeFormatter> HTTP_DATES = List.of(
            DateTimeFormatter.RFC_1123_DATE_TIME,
            // RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT"; two-digit years read as 1970..2069.
            new DateTimeFormatterBuilder()
                    .appendPattern("EEEE, dd-MMM-")
                    .appendValueReduced(ChronoField.YEAR, 2, 2, 1970)
                    .appendPattern(" HH:mm:ss 'GMT'")
                    .toFormatter(Locale.US).withZone(ZoneOffset.UTC),
            // asctime: "Sun Nov  6 08:49:37 1994"
            DateTimeFormatter.ofPattern("EEE MMM ppd HH:mm:ss yyyy", Locale.US).withZone(ZoneOffset.UTC));

    private RetryAfter() {}

    /**
     * @param header case-insensitive header lookup: name to value, null when absent
     * @param ticker source of wall-clock time for HTTP-dates
     */
    public static Optional<Duration> parse(Function<String, String> header, Ticker ticker) {
        Optional<Duration> hint = millis(header.apply("retry-after-ms"));
        if (hint.isEmpty()) hint = millis(header.apply("x-ms-retry-after-ms"));
        if (hint.isEmpty()) hint = retryAfter(header.apply("retry-after"), ticker.wallMillis());
        return hint;
    }

    /** A {@code retry-after-ms} style value: non-negative milliseconds, fractions allowed. */
    static Optional<Duration> millis(String value) {
        return decimal(value, NANOS_PER_MILLI);
    }

    /** A {@code Retry-After} value: delta-seconds (fractions tolerated, as the SDKs do) or an HTTP-date. */
    static Optional<Duration> retryAfter(String value, long nowWallMillis) {
        if (value == null) return Optional.empty();
        Optional<Duration> seconds = decimal(value, NANOS_PER_SECOND);
        return seconds.isPresent() ? seconds : httpDate(value.trim(), nowWallMillis);
    }

    private static Optional<Duration> decimal(String value, BigDecimal nanosPerUnit) {
        if (value == null) return Optional.empty();
        String v = value.trim();
        if (!DECIMAL.matcher(v).matches()) return Optional.empty();
        BigDecimal nanos = new BigDecimal(v).multiply(nanosPerUnit);
        if (nanos.compareTo(BigDecimal.valueOf(MAX_HINT.toNanos())) > 0) return Optional.of(MAX_HINT);
        return Optional.of(Duration.ofNanos(nanos.longValue()));
    }

    private static Optional<Duration> httpDate(String value, long nowWallMillis) {
        for (DateTimeFormatter format : HTTP_DATES) {
            try {
                long atMillis = format.parse(value, Instant::from).toEpochMilli();
                long waitMillis = Math.max(0, atMillis - nowWallMillis);
                return Optional.of(Duration.ofMillis(Math.min(waitMillis, MAX_HINT.toMillis())));
            } catch (DateTimeException notThisForm) {
                // try the next form
            }
        }
        return Optional.empty();
    }
}
