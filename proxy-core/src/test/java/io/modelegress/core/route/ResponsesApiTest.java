package io.modelegress.core.route;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Which Responses API call a request is, by method and path; and the id in a create call's answer. */
class ResponsesApiTest {

    @ParameterizedTest(name = "{0} {1} -> {2} {3}")
    @CsvSource(delimiter = '|', nullValues = "-", value = {
        "POST   | /v1/responses                              | CREATE    | -",
        "POST   | /v1/responses?api-version=preview          | CREATE    | -",
        "POST   | /openai/v1/responses/                      | CREATE    | -",
        "GET    | /v1/responses/resp_abc                     | FOLLOW_UP | resp_abc",
        "DELETE | /v1/responses/resp_abc                     | FOLLOW_UP | resp_abc",
        "POST   | /v1/responses/resp_abc/cancel              | FOLLOW_UP | resp_abc",
        "GET    | /v1/responses/resp_abc/input_items?limit=5 | FOLLOW_UP | resp_abc",
        "GET    | /openai/responses/resp_abc?api-version=x   | FOLLOW_UP | resp_abc",
        "GET    | /v1/responses                              | -         | -",
        "POST   | /v1/responses/resp_abc                     | -         | -",
        "GET    | /v1/responses/resp_abc/cancel              | -         | -",
        "POST   | /v1/responses/resp_abc/other               | -         | -",
        "GET    | /v1/responses/resp_abc/input_items/x       | -         | -",
        "POST   | /v1/chat/completions                       | -         | -",
        "POST   | /v1/responsesx                             | -         | -",
        "GET    | /v1/responses/resp%0d%0a                   | -         | -",
    })
    void classifiesByMethodAndPath(String method, String uri, String kind, String id) {
        ResponsesApi.Call call = ResponsesApi.classify(method, uri);
        assertEquals(kind, call == null ? null : call.kind().name());
        assertEquals(id, call == null ? null : call.responseId());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', nullValues = "-", value = {
        "a create answer                  | {\"id\":\"resp_67cb\",\"object\":\"response\",\"status\":\"queued\"} | resp_67cb",
        "spaces and the id later          | { \"object\" : \"response\", \"output\": [{\"id\":\"msg_1\"}], \"id\" : \"resp_9\" } | resp_9",
        "cut inside the id                | {\"id\":\"resp_67 | -",
        "cut before the id                | {\"object\":\"response\",\"output\":[{\"id\":\"msg_1\"} | -",
        "not an id                        | {\"id\":\"resp 1\\r\\nx: y\"} | -",
        "not an object                    | [\"resp_1\"] | -",
        "an id that is not a string       | {\"id\":17} | -",
    })
    void readsTheTopLevelIdOfAJsonBodyPrefix(String name, String body, String expected) {
        assertEquals(expected, ResponsesApi.idOfBody(new ByteArrayInputStream(body.getBytes(StandardCharsets.UTF_8))));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', nullValues = "-", value = {
        "response.created                 | {\"type\":\"response.created\",\"sequence_number\":0,\"response\":{\"id\":\"resp_s1\",\"object\":\"response\"}} | resp_s1",
        "the response's fields before id  | {\"type\":\"response.created\",\"response\":{\"object\":\"response\",\"tools\":[{\"id\":\"t\"}],\"id\":\"resp_s2\"}} | resp_s2",
        "no response object               | {\"type\":\"response.output_text.delta\",\"delta\":\"hi\"} | -",
        "a chat completion chunk          | {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\"} | -",
        "not JSON                         | [DONE] | -",
    })
    void readsTheResponseIdOfAStreamsFirstEvent(String name, String data, String expected) {
        assertEquals(expected, ResponsesApi.idOfEvent(data));
    }
}
