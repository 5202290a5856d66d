package io.modelegress.core.retry;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class RetryConditionsTest {
    @ParameterizedTest(name = "retry_on accepts \"{0}\"")
    @ValueSource(strings = {"connect_failure", "reset", "timeout", "5xx", "5XX", " 429 ", "408", "500", "599"})
    void retryOnAcceptsWhatCanHelp(String token) {
        RetryConditions.parseRetryOn("retry.retry_on", List.of(token));
    }

    @ParameterizedTest(name = "retry_on rejects \"{0}\"")
    @CsvSource(delimiter = '|', value = {
            "400     | retry.retry_on: 400 (expected: connect_failure, reset, timeout, 5xx, 408, 429 or a status 500..599; other 4xx answers are final)",
            "404     | retry.retry_on: 404 (expected: connect_failure, reset, timeout, 5xx, 408, 429 or a status 500..599; other 4xx answers are final)",
            "4xx     | retry.retry_on: 4xx (expected: connect_failure, reset, timeout, 5xx, 408, 429 or a status 500..599; other 4xx answers are final)",
            "200     | retry.retry_on: 200 (expected: connect_failure, reset, timeout, 5xx, 408, 429 or a status 500..599)",
            "connect | retry.retry_on: connect (expected: connect_failure, reset, timeout, 5xx, 408, 429 or a status 500..599)",
            "context_length_exceeded | retry.retry_on: context_length_exceeded (expected: connect_failure, reset, timeout, 5xx, 408, 429 or a status 500..599)",
    })
    void retryOnRejectsWhatCannotHelp(String token, String message) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> RetryConditions.parseRetryOn("retry.retry_on", List.of(token)));
        assertEquals(message, e.getMessage());
    }

    @ParameterizedTest(name = "fallback_on accepts \"{0}\"")
    @ValueSource(strings = {"connect_failure", "reset", "timeout", "4xx", "5xx", "context_length_exceeded", "400", "401", "429", "503"})
    void fallbackOnAcceptsAnyFailureAnotherUpstreamMightNotHave(String token) {
        RetryConditions.parseFallbackOn("fallback_on", List.of(token));
    }

    @ParameterizedTest(name = "fallback_on rejects \"{0}\"")
    @CsvSource(delimiter = '|', value = {
            "content_filter           | fallback_on: content_filter (expected: connect_failure, reset, timeout, 4xx, 5xx, context_length_exceeded or a status 400..599; content-policy rejections never fall back)",
            "content_policy_violation | fallback_on: content_policy_violation (expected: connect_failure, reset, timeout, 4xx, 5xx, context_length_exceeded or a status 400..599; content-policy rejections never fall back)",
            "302                      | fallback_on: 302 (expected: connect_failure, reset, timeout, 4xx, 5xx, context_length_exceeded or a status 400..599)",
            "sometimes                | fallback_on: sometimes (expected: connect_failure, reset, timeout, 4xx, 5xx, context_length_exceeded or a status 400..599)",
    })
    void fallbackOnRejectsContentPolicyAndUnknownTokens(String token, String message) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> RetryConditions.parseFallbackOn("fallback_on", List.of(token)));
        assertEquals(message, e.getMessage());
    }

    @Test
    void nullEntryIsNamedInTheMessage() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> RetryConditions.parseRetryOn("retry.retry_on", Arrays.asList("reset", null)));
        assertEquals("retry.retry_on: null (expected: connect_failure, reset, timeout, 5xx, 408, 429 or a status 500..599)",
                e.getMessage());
    }

    @Test
    void emptyListMatchesNothing() {
        RetryConditions none = RetryConditions.parseRetryOn("retry.retry_on", List.of());
        assertEquals(false, none.matches(AttemptOutcome.status(503)));
        assertEquals("[]", none.toString());
    }
}
