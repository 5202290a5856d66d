package io.modelegress.core.resume;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class SentTextTest {
    static String chat(String deltaJson, String finish) {
        return "{\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":7,\"model\":\"m\",\"choices\":[{\"index\":0,"
                + "\"delta\":" + deltaJson + ",\"finish_reason\":" + (finish == null ? "null" : "\"" + finish + "\"") + "}]}";
    }

    static String text(String t) { return chat("{\"content\":\"" + t + "\"}", null); }

    static String ant(String type, String rest) { return "{\"type\":\"" + type + "\"" + rest + "}"; }

    static String antText(String t) {
        return ant("content_block_delta", ",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"" + t + "\"}");
    }

    static String resp(String type, String rest) { return "{\"type\":\"" + type + "\"" + rest + "}"; }

    static String respText(String t, int seq) {
        return resp("response.output_text.delta", ",\"item_id\":\"msg_1\",\"output_index\":0,\"content_index\":0,\"delta\":\""
                + t + "\",\"sequence_number\":" + seq);
    }

    static Stream<Arguments> rows() {
        return Stream.of(
                Arguments.of("chat text after the role preamble", 1024, new String[] {
                        chat("{\"role\":\"assistant\",\"content\":\"\"}", null), text("Hel"), text("lo")}, "Hello", null),
                Arguments.of("chat tool call", 1024, new String[] {text("Let me"),
                        chat("{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"{\\\"a\"}}]}", null)}, "", "a tool call"),
                Arguments.of("chat already finished", 1024, new String[] {text("Hi"), chat("{}", "stop")}, "Hi",
                        "the answer was already finished"),
                Arguments.of("chat n=2", 1024, new String[] {text("a"),
                        "{\"choices\":[{\"index\":1,\"delta\":{\"content\":\"b\"},\"finish_reason\":null}]}"}, "", "more than one text part"),
                Arguments.of("chat over max_buffer", 4, new String[] {text("Hel"), text("lo")}, "",
                        "more text than resume.max_buffer (4 bytes)"),
                Arguments.of("chat multi-byte text counts bytes", 5, new String[] {text("\u00e9\u00e9\u00e9")}, "",
                        "more text than resume.max_buffer (5 bytes)"),
                Arguments.of("not JSON", 1024, new String[] {text("a"), "oops"}, "", "an event that is not a JSON object"),
                Arguments.of("anthropic text", 1024, new String[] {
                        ant("message_start", ",\"message\":{\"id\":\"msg_1\",\"model\":\"claude\",\"usage\":{\"input_tokens\":5,\"output_tokens\":1}}"),
                        ant("content_block_start", ",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}"),
                        antText("Hel"), antText("lo")}, "Hello", null),
                Arguments.of("anthropic tool_use block", 1024, new String[] {
                        ant("content_block_start", ",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}"), antText("I will"),
                        ant("content_block_stop", ",\"index\":0"),
                        ant("content_block_start", ",\"index\":1,\"content_block\":{\"type\":\"tool_use\",\"id\":\"t\",\"name\":\"f\"}")},
                        "", "a tool_use block"),
                Arguments.of("anthropic thinking delta", 1024, new String[] {
                        ant("content_block_delta", ",\"index\":0,\"delta\":{\"type\":\"thinking_delta\",\"thinking\":\"hm\"}")},
                        "", "a thinking_delta delta"),
                Arguments.of("responses text", 1024, new String[] {
                        resp("response.created", ",\"response\":{\"id\":\"resp_1\",\"model\":\"m\",\"created_at\":9},\"sequence_number\":0"),
                        resp("response.output_item.added", ",\"output_index\":0,\"item\":{\"type\":\"message\",\"id\":\"msg_1\"},\"sequence_number\":1"),
                        respText("Hel", 2), respText("lo", 3)}, "Hello", null),
                Arguments.of("responses function call", 1024, new String[] {
                        resp("response.output_item.added", ",\"output_index\":0,\"item\":{\"type\":\"function_call\",\"id\":\"fc\"}")},
                        "", "a function_call output item"),
                Arguments.of("unknown stream", 1024, new String[] {"{\"hello\":1}"}, "", "not a known model stream"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("rows")
    void keepsTheTextSentOrSaysWhyItCannotResume(String name, long maxBuffer, String[] events, String text, String whyNot) {
        SentText s = new SentText(maxBuffer);
        for (String e : events) s.onEvent(e);
        assertEquals(whyNot, s.whyNot());
        if (whyNot == null || text.length() > 0) assertEquals(text, s.text());
    }

    @ParameterizedTest(name = "{0}")
    @org.junit.jupiter.params.provider.CsvSource(delimiter = '|', value = {
        "chat error event | chat | {\"error\":{\"message\":\"overloaded\"}} | true",
        "chat text is not an error | chat | {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"error\"}}]} | false",
        "anthropic error event | anthropic | {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\"}} | true",
        "responses error event | responses | {\"type\":\"error\",\"code\":\"server_error\"} | true",
        "responses failed | responses | {\"type\":\"response.failed\",\"response\":{}} | true",
    })
    void notesAnInBandErrorEventWithoutCountingItAsText(String name, String api, String event, boolean error) {
        SentText s = new SentText(1024);
        s.onEvent(api.equals("chat") ? text("Hi") : api.equals("anthropic") ? antText("Hi") : respText("Hi", 1));
        s.onEvent(event);
        assertEquals(error, s.takeInBandError());
        assertEquals(false, s.takeInBandError(), "reported once");
        assertEquals(error ? "Hi" : "Hierror", s.text());
    }
}
