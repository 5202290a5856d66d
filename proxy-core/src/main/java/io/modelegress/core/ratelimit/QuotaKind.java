package io.modelegress.core.ratelimit;

/** What an upstream's own rate-limit headers meter, and what one request costs against each. */
public enum QuotaKind {
    REQUESTS("requests"),
    TOKENS("tokens"),
    INPUT_TOKENS("input-tokens"),
    OUTPUT_TOKENS("output-tokens");

    private final String headerPart;
    private final String waitReason;

    QuotaKind(String headerPart) {
        this.headerPart = headerPart;
        this.waitReason = "the upstream's remaining " + headerPart;
    }

    /** What a wait on this quota says it waits for (made once, not on every estimate). */
    String waitReason() { return waitReason; }

    /** The name's part in the headers: {@code x-ratelimit-remaining-<part>}, {@code anthropic-ratelimit-<part>-reset}. */
    public String headerPart() { return headerPart; }

    /** What a request with this estimate takes from the quota. */
    public long cost(TokenCount estimate) {
        switch (this) {
            case REQUESTS: return 1;
            case TOKENS: return estimate.total();
            case INPUT_TOKENS: return estimate.input();
            case OUTPUT_TOKENS: return estimate.output();
            default: throw new AssertionError(this);
        }
    }
}
