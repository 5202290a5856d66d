package io.modelegress.core.retry;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

class SseErrorEventTest {
    @ParameterizedTest(name = "{0} -> in-band error {1}, code {2}")
    @CsvSource(delimiter = '|', nullValues = "none", value = {
            // Azure: a 200 stream whose first event is the failure
            "{\"error\":{\"code\":\"server_error\",\"message\":\"The server had an error\"}}           | true  | server_error",
            "' {\"error\":{\"code\":\"content_filter\"}} '                                             | true  | content_filter",
            // Anthropic's event: error
            "{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}    | true  | overloaded_error",
            // an error member we cannot read a code from is still an error
            "{\"error\":\"boom\"}                                                                       | true  | none",
            // ordinary traffic
            "{\"id\":\"c1\",\"choices\":[{\"delta\":{\"content\":\"an \\\"error\\\" in text\"}}]}    | false | none",
            "{\"id\":\"c1\",\"error\":null}                                                             | false | none",
            "[DONE]                                                                                    | false | none",
            "{\"error\":                                                                               | false | none",
            "''                                                                                        | false | none",
    })
    void recognisesAnErrorObjectInTheFirstEvent(String data, boolean inBandError, String code) {
        assertEquals(inBandError, SseErrorEvent.isInBandError(data));
        assertEquals(code, SseErrorEvent.errorCode(data));
    }

    @Test
    void nullDataIsNotAnError() {
        assertFalse(SseErrorEvent.isInBandError(null));
    }
}
