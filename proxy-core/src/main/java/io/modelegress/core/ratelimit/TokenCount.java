package io.modelegress.core.ratelimit;

/**
 * Tokens of one request, split because upstreams meter input and output apart (Anthropic's ITPM and OTPM).
 * Used both for the estimate taken before the start and for the real usage read from the response.
 */
public record TokenCount(long input, long output) {
    public static final TokenCount ZERO = new TokenCount(0, 0);

    public TokenCount {
        if (input < 0) throw new IllegalArgumentException(String.format("input: %d (expected: >= 0)", input));
        if (output < 0) throw new IllegalArgumentException(String.format("output: %d (expected: >= 0)", output));
    }

    public static TokenCount of(long input, long output) {
        return new TokenCount(input, output);
    }

    public long total() {
        return input + output;
    }
}
