package io.modelegress.core.sse;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class StreamCompletionTest {
    private static final String ROLE = "{\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\"},\"finish_reason\":null}]}";
    private static final String DELTA = "{\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"say \\\"finish_reason\\\": \\\"stop\\\"\"},\"finish_reason\":null}]}";
    private static final String STOP = "{\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}";
    private static final String SPACED_STOP = "{\"id\": \"c1\", \"object\": \"chat.completion.chunk\", \"choices\": [{\"index\": 0, \"delta\": {}, \"finish_reason\": \"length\"}]}";
    private static final String USAGE = "{\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"choices\":[],\"usage\":{\"prompt_tokens\":3}}";

    private static final String A_START = "{\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"role\":\"assistant\"}}";
    private static final String A_DELTA = "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"hi\"}}";
    private static final String A_MSG_DELTA_OPEN = "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":null},\"usage\":{\"output_tokens\":2}}";
    private static final String A_MSG_DELTA_END = "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":2}}";
    private static final String A_STOP = "{\"type\":\"message_stop\"}";
    private static final String A_ERROR = "{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}";

    private static final String R_CREATED = "{\"type\":\"response.created\",\"sequence_number\":0,\"response\":{\"id\":\"r\"}}";
    private static final String R_DELTA = "{\"type\":\"response.output_text.delta\",\"sequence_number\":4,\"delta\":\"hi\"}";
    private static final String R_DONE = "{\"type\":\"response.completed\",\"sequence_number\":9,\"response\":{\"id\":\"r\"}}";
    private static final String R_INCOMPLETE = "{\"type\": \"response.incomplete\", \"sequence_number\": 9}";
    private static final String R_ERROR = "{\"type\":\"error\",\"sequence_number\":5,\"error\":{\"type\":\"server_error\",\"code\":\"server_error\",\"message\":\"x\"}}";

    /** event name (or null) and data, alternating. */
    static Stream<Arguments> streams() {
        return Stream.of(
                Arguments.of("chat cut after deltas", new String[]{null, ROLE, null, DELTA, null, DELTA}, StreamCompletion.Api.CHAT, StreamCompletion.End.OPEN, false, null),
                Arguments.of("chat with [DONE]", new String[]{null, ROLE, null, STOP, null, "[DONE]"}, StreamCompletion.Api.CHAT, StreamCompletion.End.MARKER, true, null),
                Arguments.of("chat finished, no [DONE]", new String[]{null, ROLE, null, DELTA, null, STOP}, StreamCompletion.Api.CHAT, StreamCompletion.End.FINISHED, true, "data: [DONE]\n\n"),
                Arguments.of("chat finished, usage chunk after, no [DONE]", new String[]{null, ROLE, null, STOP, null, USAGE}, StreamCompletion.Api.CHAT, StreamCompletion.End.FINISHED, true, "data: [DONE]\n\n"),
                Arguments.of("chat json with spaces", new String[]{null, SPACED_STOP}, StreamCompletion.Api.CHAT, StreamCompletion.End.FINISHED, true, "data: [DONE]\n\n"),
                Arguments.of("chat in-band error after deltas", new String[]{null, ROLE, null, "{\"error\":{\"message\":\"boom\"}}"}, StreamCompletion.Api.CHAT, StreamCompletion.End.ERROR, true, null),
                Arguments.of("anthropic cut", new String[]{"message_start", A_START, "content_block_delta", A_DELTA, "message_delta", A_MSG_DELTA_OPEN}, StreamCompletion.Api.ANTHROPIC, StreamCompletion.End.OPEN, false, null),
                Arguments.of("anthropic with message_stop", new String[]{"message_start", A_START, "content_block_delta", A_DELTA, "message_delta", A_MSG_DELTA_END, "message_stop", A_STOP}, StreamCompletion.Api.ANTHROPIC, StreamCompletion.End.MARKER, true, null),
                Arguments.of("anthropic stop reason, no message_stop", new String[]{"message_start", A_START, "content_block_delta", A_DELTA, "message_delta", A_MSG_DELTA_END}, StreamCompletion.Api.ANTHROPIC, StreamCompletion.End.FINISHED, true, "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"),
                Arguments.of("anthropic error event", new String[]{"message_start", A_START, "error", A_ERROR}, StreamCompletion.Api.ANTHROPIC, StreamCompletion.End.ERROR, true, null),
                Arguments.of("responses cut", new String[]{"response.created", R_CREATED, "response.output_text.delta", R_DELTA}, StreamCompletion.Api.RESPONSES, StreamCompletion.End.OPEN, false, null),
                Arguments.of("responses completed", new String[]{"response.created", R_CREATED, null, R_DELTA, null, R_DONE}, StreamCompletion.Api.RESPONSES, StreamCompletion.End.MARKER, true, null),
                Arguments.of("responses incomplete (spaced)", new String[]{null, R_CREATED, null, R_INCOMPLETE}, StreamCompletion.Api.RESPONSES, StreamCompletion.End.MARKER, true, null),
                Arguments.of("responses error", new String[]{null, R_CREATED, "error", R_ERROR}, StreamCompletion.Api.RESPONSES, StreamCompletion.End.ERROR, true, null),
                Arguments.of("a tool server's own events", new String[]{"message", "{\"jsonrpc\":\"2.0\",\"id\":1}", "message", "{\"jsonrpc\":\"2.0\",\"id\":2}"}, StreamCompletion.Api.UNKNOWN, StreamCompletion.End.OPEN, true, null));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("streams")
    void judgesTheEndOfAStream(String name, String[] events, StreamCompletion.Api api, StreamCompletion.End end,
                               boolean complete, String marker) {
        StreamCompletion c = new StreamCompletion();
        for (int i = 0; i < events.length; i += 2) c.onData(events[i], events[i + 1]);
        assertEquals(api, c.api());
        assertEquals(end, c.end());
        assertEquals(complete, c.complete());
        assertEquals(marker, c.missingEndMarker());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("streams")
    void theScannerJudgesTheSameFromTheBytes(String name, String[] events, StreamCompletion.Api api, StreamCompletion.End end,
                                             boolean complete, String marker) {
        StringBuilder wire = new StringBuilder();
        for (int i = 0; i < events.length; i += 2) {
            if (events[i] != null) wire.append("event: ").append(events[i]).append('\n');
            wire.append("data: ").append(events[i + 1]).append("\n\n");
        }
        SseScanner s = new SseScanner();
        byte[] b = wire.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
        s.feed(b, 0, b.length);
        assertEquals(end, s.completion().end());
        assertEquals(complete, s.completion().complete());
    }

    @org.junit.jupiter.api.Test
    void tracksTheLastResponsesSequenceNumber() {
        StreamCompletion c = new StreamCompletion();
        c.onData(null, R_CREATED);
        c.onData(null, R_DELTA);
        assertEquals(4, c.sequenceNumber());
    }
}
