package io.modelegress.core.resume;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ContinuationBodiesTest {
    private static SentText sent(String... events) {
        SentText s = new SentText(1024);
        for (String e : events) s.onEvent(e);
        return s;
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "openai chat: continue_final_message | chat | Hello wor | {\"model\":\"m\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"
                + " | {\"model\":\"m\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"},{\"role\":\"assistant\",\"content\":\"Hello wor\"}],"
                + "\"continue_final_message\":true,\"add_generation_prompt\":false} | ''",
        "anthropic: native prefill, trailing space held back | anthropic | 'Hello ' | {\"model\":\"c\",\"max_tokens\":9,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"
                + " | {\"model\":\"c\",\"max_tokens\":9,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"},{\"role\":\"assistant\",\"content\":\"Hello\"}]} | ' '",
    })
    void prefillAddsTheAssistantMessage(String name, String api, String text, String body, String expected, String heldBack) {
        SentText s = api.equals("chat") ? sent(SentTextTest.text(text))
                : sent(SentTextTest.ant("content_block_start", ",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}"),
                        SentTextTest.antText(text));
        ContinuationBodies.Prefill p = ContinuationBodies.prefill(body.getBytes(StandardCharsets.UTF_8), s);
        assertEquals(expected, new String(p.body(), StandardCharsets.UTF_8));
        assertEquals(heldBack, p.heldBack());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "responses api has no prefill | {\"model\":\"m\",\"input\":\"hi\"}",
        "no messages array | {\"model\":\"m\",\"prompt\":\"hi\"}",
        "not json | hello",
    })
    void prefillIsRefusedWhereTheRequestCannotCarryIt(String name, String body) {
        SentText s = body.contains("input") ? sent(SentTextTest.respText("Hel", 1)) : sent(SentTextTest.text("Hel"));
        assertNull(ContinuationBodies.prefill(body.getBytes(StandardCharsets.UTF_8), s));
    }
}
