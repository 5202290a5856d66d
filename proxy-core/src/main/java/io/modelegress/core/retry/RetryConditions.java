package io.modelegress.core.retry;

import java.util.Collection;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * A parsed {@code retry.retry_on} or route {@code fallback_on} list: which outcomes it names.
 * Parsing is where the hard rules are enforced, so a config cannot ask for something the policy will never do.
 */
final class RetryConditions {
    static final String CONNECT_FAILURE = "connect_failure";
    static final String RESET = "reset";
    static final String TIMEOUT = "timeout";
    static final String ANY_4XX = "4xx";
    static final String ANY_5XX = "5xx";
    static final String CONTEXT_LENGTH_EXCEEDED = "context_length_exceeded";

    private final boolean connectFailure;
    private final boolean reset;
    private final boolean timeout;
    private final boolean any4xx;
    private final boolean any5xx;
    private final boolean contextLengthExceeded;
    private final Set<Integer> statuses;

    private RetryConditions(Set<String> keywords, Set<Integer> statuses) {
        this.connectFailure = keywords.contains(CONNECT_FAILURE);
        this.reset = keywords.contains(RESET);
        this.timeout = keywords.contains(TIMEOUT);
        this.any4xx = keywords.contains(ANY_4XX);
        this.any5xx = keywords.contains(ANY_5XX);
        this.contextLengthExceeded = keywords.contains(CONTEXT_LENGTH_EXCEEDED);
        this.statuses = Set.copyOf(statuses);
    }

    /**
     * {@code retry.retry_on}: {@code connect_failure}, {@code reset}, {@code timeout} (the same switch as
     * {@code retry.retry_on_timeout}), {@code 5xx}, 408, 429 or a 5xx status. Other 4xx answers are final: the same
     * request gets the same answer, so they are refused here rather than silently never retried.
     */
    static RetryConditions parseRetryOn(String key, Collection<String> tokens) {
        String expected = "expected: connect_failure, reset, timeout, 5xx, 408, 429 or a status 500..599";
        return parse(key, tokens, expected, (token, status) -> {
            boolean final4xx = status != null && status >= 400 && status <= 499 && status != 408 && status != 429;
            if (ANY_4XX.equals(token) || final4xx) {
                throw invalid(key, token, expected + "; other 4xx answers are final");
            }
            if (status == null) return Set.of(CONNECT_FAILURE, RESET, TIMEOUT, ANY_5XX).contains(token);
            return status == 408 || status == 429 || (status >= 500 && status <= 599);
        });
    }

    /**
     * A route's {@code fallback_on}: {@code connect_failure}, {@code reset}, {@code timeout}, {@code 4xx},
     * {@code 5xx}, {@code context_length_exceeded} or a status 400..599. Content-policy rejections are refused by name:
     * sending a rejected prompt to another provider would route around the policy.
     */
    static RetryConditions parseFallbackOn(String key, Collection<String> tokens) {
        String expected = "expected: connect_failure, reset, timeout, 4xx, 5xx, context_length_exceeded or a status 400..599";
        return parse(key, tokens, expected, (token, status) -> {
            if (status == null) {
                if (token.startsWith("content_")) {
                    throw invalid(key, token, expected + "; content-policy rejections never fall back");
                }
                return Set.of(CONNECT_FAILURE, RESET, TIMEOUT, ANY_4XX, ANY_5XX, CONTEXT_LENGTH_EXCEEDED).contains(token);
            }
            return status >= 400 && status <= 599;
        });
    }

    private interface TokenRule {
        /** @param status the token as a status, or null when it is not a number */
        boolean accepts(String token, Integer status);
    }

    private static RetryConditions parse(String key, Collection<String> tokens, String expected, TokenRule rule) {
        Objects.requireNonNull(tokens, key);
        Set<String> keywords = new TreeSet<>();
        Set<Integer> statuses = new TreeSet<>();
        for (String raw : tokens) {
            if (raw == null) throw invalid(key, "null", expected);
            String token = raw.trim().toLowerCase(Locale.ROOT);
            Integer status = asStatus(token);
            if (!rule.accepts(token, status)) throw invalid(key, raw, expected);
            if (status != null) statuses.add(status);
            else keywords.add(token);
        }
        return new RetryConditions(keywords, statuses);
    }

    private static Integer asStatus(String token) {
        if (token.length() != 3) return null;
        for (int i = 0; i < 3; i++) {
            if (!Character.isDigit(token.charAt(i))) return null;
        }
        return Integer.parseInt(token);
    }

    private static IllegalArgumentException invalid(String key, String token, String expected) {
        return new IllegalArgumentException(key + ": " + token + " (" + expected + ")");
    }

    /** Whether the list names this outcome. Progress rules (commit, response started) are the policy's job. */
    boolean matches(AttemptOutcome outcome) {
        if (outcome.failure().isPresent()) {
            return (connectFailure && outcome.isConnectFailure())
                    || (reset && outcome.isResetBeforeResponse())
                    || (timeout && outcome.isTimeout());
        }
        int status = outcome.status();
        return statuses.contains(status)
                || (any4xx && status >= 400 && status <= 499)
                || (any5xx && status >= 500)
                || (contextLengthExceeded && status >= 400 && outcome.hasUpstreamErrorCode(CONTEXT_LENGTH_EXCEEDED));
    }

    @Override
    public String toString() {
        Set<String> all = new TreeSet<>();
        if (connectFailure) all.add(CONNECT_FAILURE);
        if (reset) all.add(RESET);
        if (timeout) all.add(TIMEOUT);
        if (any4xx) all.add(ANY_4XX);
        if (any5xx) all.add(ANY_5XX);
        if (contextLengthExceeded) all.add(CONTEXT_LENGTH_EXCEEDED);
        statuses.forEach(s -> all.add(Integer.toString(s)));
        return all.toString();
    }
}
