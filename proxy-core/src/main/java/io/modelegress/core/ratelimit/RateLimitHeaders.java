package io.modelegress.core.ratelimit;

import io.modelegress.core.time.Ticker;
import java.time.OffsetDateTime;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

/**
 * Reads an upstream's own rate-limit headers into a {@link RateLimitSnapshot}.
 *
 * <ul>
 *   <li>OpenAI and Azure OpenAI: {@code x-ratelimit-{limit,remaining,reset}-{requests,tokens}}; the reset is a Go
 *       duration ({@code 6m0s}, {@code 20ms}) or, from Azure, plain seconds. Azure sends {@code -1} for "unknown".
 *   <li>Anthropic: {@code anthropic-ratelimit-{requests,tokens,input-tokens,output-tokens}-{limit,remaining,reset}};
 *       the reset is an RFC 3339 instant.
 *   <li>On a 429 either may send {@code retry-after-ms} (OpenAI) or {@code retry-after} (seconds or an HTTP date).
 * </ul>
 * Either reset form is accepted under either name. A quota without a usable remaining and reset is left out:
 * without a reset we cannot know when it frees. Malformed values are ignored, never thrown.
 */
public final class RateLimitHeaders {
    private RateLimitHeaders() { }

    private static final QuotaKind[] KINDS = QuotaKind.values();
    /** Per kind: Anthropic's limit, remaining, reset names, then OpenAI's; built once (this runs per response). */
    private static final String[][] NAMES = new String[KINDS.length][];

    static {
        for (QuotaKind kind : KINDS) {
            String part = kind.headerPart();
            NAMES[kind.ordinal()] = new String[] {
                "anthropic-ratelimit-" + part + "-limit", "anthropic-ratelimit-" + part + "-remaining",
                "anthropic-ratelimit-" + part + "-reset",
                "x-ratelimit-limit-" + part, "x-ratelimit-remaining-" + part, "x-ratelimit-reset-" + part};
        }
    }

    /**
     * The quota and retry-after headers among {@code headers}, if any. One pass picks out the candidates (most
     * upstreams send none, OpenAI six), so the ~30 name lookups of {@link #parse} run on a small map, not on the
     * response's headers.
     */
    public static RateLimitSnapshot scan(Iterator<Map.Entry<CharSequence, CharSequence>> headers, Ticker ticker) {
        Map<String, String> found = null;
        while (headers.hasNext()) {
            Map.Entry<CharSequence, CharSequence> h = headers.next();
            CharSequence name = h.getKey();
            if (startsWith(name, "x-ratelimit-") || startsWith(name, "anthropic-ratelimit-") || startsWith(name, "retry-after")) {
                if (found == null) found = new HashMap<>();
                found.putIfAbsent(name.toString().toLowerCase(Locale.ROOT), h.getValue().toString());
            }
        }
        if (found == null) return RateLimitSnapshot.EMPTY;
        return parse(found::get, ticker);
    }

    /** Case-insensitive ASCII prefix test on a header name, without copying it. */
    static boolean startsWith(CharSequence name, String prefix) {
        int n = prefix.length();
        if (name.length() < n) return false;
        for (int i = 0; i < n; i++) {
            char c = name.charAt(i);
            if (c >= 'A' && c <= 'Z') c = (char) (c + 32);
            if (c != prefix.charAt(i)) return false;
        }
        return true;
    }

    /**
     * @param headers looks a response header up by its lower-case name; null when absent
     * @param ticker converts reset times to the monotonic scale the limiter runs on
     */
    public static RateLimitSnapshot parse(Function<String, String> headers, Ticker ticker) {
        long now = ticker.nanos();
        long wallMillis = ticker.wallMillis();
        Map<QuotaKind, QuotaReading> readings = new EnumMap<>(QuotaKind.class);
        for (QuotaKind kind : KINDS) {
            String[] n = NAMES[kind.ordinal()];
            QuotaReading reading = reading(headers, now, wallMillis, n[0], n[1], n[2]);
            if (reading == null) reading = reading(headers, now, wallMillis, n[3], n[4], n[5]);
            if (reading != null) readings.put(kind, reading);
        }
        return new RateLimitSnapshot(readings, retryAt(headers, now, wallMillis));
    }

    private static QuotaReading reading(Function<String, String> headers, long now, long wallMillis,
                                        String limitName, String remainingName, String resetName) {
        long remaining = count(headers.apply(remainingName));
        long resetAt = resetAt(headers.apply(resetName), now, wallMillis);
        if (remaining < 0 || resetAt == RateLimitSnapshot.NO_RETRY_AFTER) return null;
        long limit = count(headers.apply(limitName));
        return new QuotaReading(limit < 0 ? QuotaReading.UNKNOWN : limit, remaining, now, resetAt);
    }

    /** When the upstream asked us to come back; {@code retry-after-ms} is the more precise of the two. */
    private static long retryAt(Function<String, String> headers, long now, long wallMillis) {
        String millis = headers.apply("retry-after-ms");
        if (millis != null) {
            long nanos = GoDuration.parseNanos(millis.trim() + "ms");
            if (nanos != GoDuration.INVALID) return now + nanos;
        }
        String value = headers.apply("retry-after");
        if (value == null) return RateLimitSnapshot.NO_RETRY_AFTER;
        long nanos = GoDuration.parseNanos(value);
        if (nanos != GoDuration.INVALID) return now + nanos;
        try {
            long epochMillis = ZonedDateTime.parse(value.trim(), DateTimeFormatter.RFC_1123_DATE_TIME)
                    .toInstant().toEpochMilli();
            return atWallMillis(epochMillis, now, wallMillis);
        } catch (DateTimeParseException e) {
            return RateLimitSnapshot.NO_RETRY_AFTER;
        }
    }

    /** A reset as a duration from now or as an RFC 3339 instant, on the monotonic scale. */
    private static long resetAt(String value, long now, long wallMillis) {
        if (value == null) return RateLimitSnapshot.NO_RETRY_AFTER;
        long nanos = GoDuration.parseNanos(value);
        if (nanos != GoDuration.INVALID) return now + nanos;
        try {
            long epochMillis = OffsetDateTime.parse(value.trim()).toInstant().toEpochMilli();
            return atWallMillis(epochMillis, now, wallMillis);
        } catch (DateTimeParseException e) {
            return RateLimitSnapshot.NO_RETRY_AFTER;
        }
    }

    /** A wall-clock instant on the monotonic scale; one in the past (clock skew) means now. */
    private static long atWallMillis(long epochMillis, long now, long wallMillis) {
        return now + Math.max(0, epochMillis - wallMillis) * 1_000_000L;
    }

    /** A non-negative count, or -1 when absent, negative (Azure's "unknown") or malformed. */
    private static long count(String value) {
        if (value == null) return -1;
        try {
            long n = Long.parseLong(value.trim());
            return n < 0 ? -1 : n;
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
