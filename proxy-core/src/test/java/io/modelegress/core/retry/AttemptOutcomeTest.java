package io.modelegress.core.retry;

import io.modelegress.core.error.ErrorCode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.time.Duration;
import java.util.Optional;
import java.util.stream.Stream;

import static io.modelegress.core.retry.AttemptOutcome.failure;
import static io.modelegress.core.retry.AttemptOutcome.status;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.params.provider.Arguments.arguments;

class AttemptOutcomeTest {
    static Stream<Arguments> metricTags() {
        return Stream.of(
                arguments(failure(ErrorCode.DNS_TIMEOUT), "connect_failure"),
                arguments(failure(ErrorCode.TLS_HANDSHAKE_FAILED), "connect_failure"),
                arguments(failure(ErrorCode.UPSTREAM_RESET), "reset"),
                arguments(failure(ErrorCode.FIRST_TOKEN_TIMEOUT), "timeout"),
                arguments(failure(ErrorCode.REQUEST_DEADLINE_EXCEEDED), "request_deadline_exceeded"),
                arguments(status(429), "429"),
                arguments(status(400, "context_length_exceeded", Optional.empty()), "context_length_exceeded"),
                arguments(status(400, "something_else", Optional.empty()), "400"));
    }

    @ParameterizedTest(name = "{0} is tagged {1}")
    @MethodSource
    void metricTags(AttemptOutcome outcome, String tag) {
        assertEquals(tag, outcome.metricTag());
    }

    @Test
    void anAnswerMeansTheResponseStartedButNothingWasCommitted() {
        AttemptOutcome answer = status(503, null, Optional.of(Duration.ofSeconds(2)));
        assertTrue(answer.responseStarted());
        assertFalse(answer.committed());
        assertEquals(Optional.of(Duration.ofSeconds(2)), answer.retryAfter());
        assertEquals("AttemptOutcome{503, retryAfter=PT2S}", answer.toString());
    }

    @Test
    void commitImpliesTheResponseStarted() {
        AttemptOutcome committed = failure(ErrorCode.UPSTREAM_RESET).afterCommit();
        assertTrue(committed.responseStarted());
        assertTrue(committed.committed());
        assertEquals(Optional.of(ErrorCode.UPSTREAM_RESET), committed.failure());
        assertEquals(0, committed.status());
    }

    @Test
    void contentFilterAndContentPolicyAreContentRejections() {
        assertTrue(status(400, "content_filter", Optional.empty()).isContentPolicyRejection());
        assertTrue(status(400, "content_policy_violation", Optional.empty()).isContentPolicyRejection());
        assertFalse(status(400, "context_length_exceeded", Optional.empty()).isContentPolicyRejection());
    }

    @Test
    void rejectsImpossibleStatus() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> status(600));
        assertEquals("status: 600 (expected: 100..599)", e.getMessage());
    }

    @org.junit.jupiter.api.Test
    void anErrorAnswerCarriesItsProvidersCodeAndWaitHintAndCountsAsSeenByTheUpstream() {
        byte[] body = "{\"error\":{\"code\":\"rate_limit_exceeded\",\"message\":\"slow down\"}}".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        java.util.Map<String, String> headers = java.util.Map.of("retry-after", "2");
        AttemptOutcome o = AttemptOutcome.errorAnswer(429, body, headers::get, new io.modelegress.core.time.ManualTicker());
        org.junit.jupiter.api.Assertions.assertEquals(AttemptOutcome.status(429, "rate_limit_exceeded",
                java.util.Optional.of(java.time.Duration.ofSeconds(2))).afterResponseStarted().toString(), o.toString());
    }

    @org.junit.jupiter.api.Test
    void anInBandErrorIsA5xxOrA400ForATooLongContextAndNothingElseIsOne() {
        org.junit.jupiter.api.Assertions.assertNull(AttemptOutcome.inBandError("{\"choices\":[]}"));
        org.junit.jupiter.api.Assertions.assertNull(AttemptOutcome.inBandError(null));
        org.junit.jupiter.api.Assertions.assertEquals("500", AttemptOutcome.inBandError("{\"error\":{\"code\":\"server_error\"}}").metricTag());
        org.junit.jupiter.api.Assertions.assertEquals("context_length_exceeded", AttemptOutcome.inBandError("{\"error\":{\"code\":\"context_length_exceeded\"}}").metricTag());
    }
}
