package io.modelegress.core.resume;

import static io.modelegress.core.resume.SentTextTest.ant;
import static io.modelegress.core.resume.SentTextTest.antText;
import static io.modelegress.core.resume.SentTextTest.resp;
import static io.modelegress.core.resume.SentTextTest.respText;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class SpliceTest {
    /** A chat chunk of the continuation: its own id, model and created, which the splice must replace. */
    static String cont(String deltaJson, String finish) {
        return "{\"id\":\"c2\",\"object\":\"chat.completion.chunk\",\"created\":99,\"model\":\"m-2\",\"choices\":[{\"index\":0,"
                + "\"delta\":" + deltaJson + ",\"finish_reason\":" + (finish == null ? "null" : "\"" + finish + "\"") + "}]}";
    }

    static String contText(String t) { return cont("{\"content\":\"" + t + "\"}", null); }

    static String out(String deltaJson, String finish) {
        return "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":7,\"model\":\"m\",\"choices\":[{\"index\":0,"
                + "\"delta\":" + deltaJson + ",\"finish_reason\":" + (finish == null ? "null" : "\"" + finish + "\"") + "}]}\n\n";
    }

    static final String ROLE = cont("{\"role\":\"assistant\",\"content\":\"\"}", null);
    static final String[] CHAT_SENT = {SentTextTest.chat("{\"role\":\"assistant\",\"content\":\"\"}", null),
            SentTextTest.text("Hello"), SentTextTest.text(" wor")};

    static final String[] ANT_SENT = {
            ant("message_start", ",\"message\":{\"id\":\"msg_1\",\"model\":\"claude\",\"usage\":{\"input_tokens\":5,\"output_tokens\":1}}"),
            ant("content_block_start", ",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}"),
            antText("Hello"), antText(" wor")};

    static final String[] RESP_SENT = {
            resp("response.created", ",\"response\":{\"id\":\"resp_1\",\"model\":\"m\",\"created_at\":9},\"sequence_number\":0"),
            resp("response.output_item.added", ",\"output_index\":0,\"item\":{\"type\":\"message\",\"id\":\"msg_1\"},\"sequence_number\":1"),
            resp("response.content_part.added", ",\"item_id\":\"msg_1\",\"output_index\":0,\"content_index\":0,\"sequence_number\":2"),
            respText("Hello", 3), respText(" wor", 4)};

    static Stream<Arguments> rows() {
        return Stream.of(
                Arguments.of("chat prefill: preamble dropped, ids kept, [DONE] once", CHAT_SENT, "prefill", "", List.of(
                        ROLE, contText("ld"), contText("!"), cont("{}", "stop"), "[DONE]", "[DONE]"),
                        out("{\"content\":\"ld\"}", null) + out("{\"content\":\"!\"}", null) + out("{}", "stop") + "data: [DONE]\n\n"),
                Arguments.of("chat replay: the prefix suppressed, the straddling chunk cut", CHAT_SENT, "replay", null, List.of(
                        ROLE, contText("Hel"), contText("lo"), contText(" world"), contText("!"), cont("{}", "stop"), "[DONE]"),
                        out("{\"content\":\"ld\"}", null) + out("{\"content\":\"!\"}", null) + out("{}", "stop") + "data: [DONE]\n\n"),
                Arguments.of("chat replay that diverges", CHAT_SENT, "replay", null, List.of(ROLE, contText("Hello"), contText(" there")),
                        "FAIL the replayed answer differs before reaching the 9 characters"),
                Arguments.of("chat replay that ends early", CHAT_SENT, "replay", null, List.of(contText("Hello"), cont("{}", "stop")),
                        "FAIL the replayed answer ended before reaching"),
                Arguments.of("chat replay that calls a tool", CHAT_SENT, "replay", null, List.of(
                        cont("{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"{}\"}}]}", null)),
                        "FAIL the continuation called a tool"),
                Arguments.of("chat usage summed with the original's", new String[] {
                        "{\"id\":\"c1\",\"created\":7,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"},\"finish_reason\":null}],"
                                + "\"usage\":{\"prompt_tokens\":10,\"completion_tokens\":1,\"total_tokens\":11}}"}, "prefill", "", List.of(
                        "{\"id\":\"c2\",\"created\":99,\"model\":\"m\",\"choices\":[],\"usage\":{\"prompt_tokens\":11,\"completion_tokens\":3,\"total_tokens\":14}}"),
                        "data: {\"id\":\"c1\",\"created\":7,\"model\":\"m\",\"choices\":[],\"usage\":{\"prompt_tokens\":21,\"completion_tokens\":4,\"total_tokens\":25}}\n\n"),
                Arguments.of("anthropic prefill: message_start and block start dropped, usage summed, message_stop once", ANT_SENT, "prefill", "",
                        List.of(ant("message_start", ",\"message\":{\"id\":\"msg_2\",\"usage\":{\"input_tokens\":7,\"output_tokens\":1}}"),
                                ant("content_block_start", ",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}"),
                                ant("ping", ""), antText("ld"), ant("content_block_stop", ",\"index\":0"),
                                ant("message_delta", ",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":2}"),
                                ant("message_stop", ""), ant("message_stop", "")),
                        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"ld\"}}\n\n"
                                + "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n"
                                + "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":3,\"input_tokens\":5}}\n\n"
                                + "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"),
                Arguments.of("anthropic prefill: held-back whitespace the model repeats is not sent twice", new String[] {ANT_SENT[1], antText("Hello ")},
                        "prefill", " ", List.of(antText(" world")),
                        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"world\"}}\n\n"),
                Arguments.of("anthropic prefill: held-back whitespace the model does not repeat", new String[] {ANT_SENT[1], antText("Hello ")},
                        "prefill", " ", List.of(antText("world")),
                        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"world\"}}\n\n"),
                Arguments.of("anthropic replay that diverges", ANT_SENT, "replay", null, List.of(antText("Goodbye")),
                        "FAIL the replayed answer differs"),
                Arguments.of("anthropic continuation that starts a tool_use block", ANT_SENT, "prefill", "", List.of(
                        ant("content_block_start", ",\"index\":1,\"content_block\":{\"type\":\"tool_use\",\"id\":\"t\",\"name\":\"f\"}")),
                        "FAIL the continuation started a non-text block"),
                Arguments.of("responses replay: preamble dropped, item id and sequence carried on, completed once", RESP_SENT, "replay", null, List.of(
                        resp("response.created", ",\"response\":{\"id\":\"resp_2\",\"created_at\":50},\"sequence_number\":0"),
                        resp("response.output_item.added", ",\"output_index\":0,\"item\":{\"type\":\"message\",\"id\":\"msg_2\"},\"sequence_number\":1"),
                        resp("response.content_part.added", ",\"item_id\":\"msg_2\",\"output_index\":0,\"content_index\":0,\"sequence_number\":2"),
                        resp("response.output_text.delta", ",\"item_id\":\"msg_2\",\"output_index\":0,\"content_index\":0,\"delta\":\"Hello world\",\"sequence_number\":3"),
                        resp("response.completed", ",\"response\":{\"id\":\"resp_2\",\"created_at\":50,\"usage\":{\"output_tokens\":3}},\"sequence_number\":4")),
                        "event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"item_id\":\"msg_1\",\"output_index\":0,\"content_index\":0,\"delta\":\"ld\",\"sequence_number\":5}\n\n"
                                + "event: response.completed\ndata: {\"type\":\"response.completed\",\"response\":{\"id\":\"resp_1\",\"created_at\":9,\"usage\":{\"output_tokens\":3}},\"sequence_number\":6}\n\n"),
                Arguments.of("responses replay that diverges", RESP_SENT, "replay", null, List.of(respText("Help", 3)),
                        "FAIL the replayed answer differs"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("rows")
    void splicesTheContinuationIntoTheStreamTheAgentReads(String name, String[] sentEvents, String strategy, String heldBack,
                                                          List<String> continuation, String expected) {
        SentText sent = new SentText(1024);
        for (String e : sentEvents) sent.onEvent(e);
        Splice splice = strategy.equals("replay") ? Splice.replay(sent) : Splice.prefill(sent, heldBack);
        StringBuilder agent = new StringBuilder();
        for (String e : continuation) {
            Splice.Step step = splice.onEvent(e);
            if (step instanceof Splice.Fail f) {
                assertTrue(expected.startsWith("FAIL ") && f.why().startsWith(expected.substring(5)), () -> name + ": " + f.why());
                assertEquals("", agent.toString(), "nothing of a failed splice reaches the agent");
                return;
            }
            if (step instanceof Splice.Emit emit) agent.append(emit.sse());
        }
        assertEquals(expected, agent.toString());
    }
}
