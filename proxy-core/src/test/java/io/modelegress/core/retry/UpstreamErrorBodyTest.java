package io.modelegress.core.retry;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

class UpstreamErrorBodyTest {
    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', nullValues = "none", value = {
            // OpenAI: the code is the specific reason, the type only the class
            "{\"error\":{\"message\":\"too long\",\"type\":\"invalid_request_error\",\"param\":\"messages\",\"code\":\"context_length_exceeded\"}} | context_length_exceeded",
            "{\"error\":{\"message\":\"quota\",\"type\":\"insufficient_quota\",\"code\":null}}                                                        | insufficient_quota",
            // Azure content filter
            "{\"error\":{\"code\":\"content_filter\",\"message\":\"filtered\",\"innererror\":{\"code\":\"ResponsibleAIPolicyViolation\"}}}            | content_filter",
            // Anthropic
            "{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}                                                   | overloaded_error",
            // numeric codes are read as text
            "{\"error\":{\"code\":429,\"message\":\"slow down\"}}                                                                                    | 429",
            "{\"error\":{\"code\":\"\",\"type\":\"server_error\"}}                                                                                    | server_error",
            "{\"error\":\"plain string\"}                                                                                                             | none",
            "{\"error\":{\"code\":{\"nested\":true}}}                                                                                                | none",
            "{\"message\":\"no error member\"}                                                                                                       | none",
            "[1,2,3]                                                                                                                                  | none",
            "<html>502 Bad Gateway</html>                                                                                                             | none",
            "{\"error\":{\"code\":\"context_len                                                                                                      | none",
            "''                                                                                                                                       | none",
    })
    void readsProviderErrorCode(String body, String expected) {
        assertEquals(expected, UpstreamErrorBody.errorCode(body));
        assertEquals(expected, UpstreamErrorBody.errorCode(body.getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void nullBodyHasNoCode() {
        assertNull(UpstreamErrorBody.errorCode((String) null));
        assertNull(UpstreamErrorBody.errorCode((byte[]) null));
    }
}
