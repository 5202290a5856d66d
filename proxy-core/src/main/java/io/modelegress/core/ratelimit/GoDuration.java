package io.modelegress.core.ratelimit;

import java.math.BigDecimal;
import java.math.RoundingMode;

/**
 * Parses the durations OpenAI puts in {@code x-ratelimit-reset-*}: Go's {@code time.Duration} text
 * ({@code 1s}, {@code 6m0s}, {@code 20ms}, {@code 1m30.5s}, {@code 1h2m}), and plain seconds ({@code 7},
 * {@code 0.5}) as Azure OpenAI and {@code retry-after} send them.
 */
final class GoDuration {
    static final long INVALID = -1;

    private GoDuration() { }

    /** Nanoseconds, or {@link #INVALID} when the text is not a non-negative duration. */
    static long parseNanos(String text) {
        if (text == null) return INVALID;
        String s = text.trim();
        if (s.isEmpty()) return INVALID;
        try {
            if (isPlainNumber(s)) return toNanos(new BigDecimal(s), 1_000_000_000L);
            BigDecimal total = BigDecimal.ZERO;
            int i = 0;
            while (i < s.length()) {
                int numberStart = i;
                while (i < s.length() && (Character.isDigit(s.charAt(i)) || s.charAt(i) == '.')) i++;
                int unitStart = i;
                while (i < s.length() && !Character.isDigit(s.charAt(i)) && s.charAt(i) != '.') i++;
                long unit = unitNanos(s.substring(unitStart, i));
                if (unitStart == numberStart || unit == INVALID) return INVALID;
                total = total.add(new BigDecimal(s.substring(numberStart, unitStart)).multiply(BigDecimal.valueOf(unit)));
            }
            return toNanos(total, 1);
        } catch (NumberFormatException | ArithmeticException e) {
            return INVALID;
        }
    }

    private static boolean isPlainNumber(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (!Character.isDigit(c) && c != '.') return false;
        }
        return true;
    }

    private static long unitNanos(String unit) {
        switch (unit) {
            case "ns": return 1;
            case "us": case "\u00b5s": case "\u03bcs": return 1_000;
            case "ms": return 1_000_000;
            case "s": return 1_000_000_000L;
            case "m": return 60_000_000_000L;
            case "h": return 3_600_000_000_000L;
            default: return INVALID;
        }
    }

    private static long toNanos(BigDecimal amount, long unitNanos) {
        BigDecimal nanos = amount.multiply(BigDecimal.valueOf(unitNanos));
        if (nanos.signum() < 0) return INVALID;
        return nanos.setScale(0, RoundingMode.CEILING).longValueExact();
    }
}
