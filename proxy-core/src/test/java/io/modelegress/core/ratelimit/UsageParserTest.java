package io.modelegress.core.ratelimit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class UsageParserTest {
    private static TokenCount body(String json) {
        return UsageParser.fromBody(json.getBytes(StandardCharsets.UTF_8));
    }

    private static TokenCount stream(List<String> dataPayloads) {
        StreamUsage usage = new StreamUsage();
        dataPayloads.forEach(usage::onData);
        return usage.usage();
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "openai chat     | {\"id\":\"chatcmpl-1\",\"choices\":[{\"message\":{\"content\":\"Hi\"}}],\"usage\":{\"prompt_tokens\":19,\"completion_tokens\":10,\"total_tokens\":29,\"prompt_tokens_details\":{\"cached_tokens\":0}}} | 19 | 10",
        "openai responses | {\"id\":\"resp_1\",\"output\":[],\"usage\":{\"input_tokens\":36,\"input_tokens_details\":{\"cached_tokens\":0},\"output_tokens\":87,\"output_tokens_details\":{\"reasoning_tokens\":0},\"total_tokens\":123}} | 36 | 87",
        "anthropic        | {\"id\":\"msg_1\",\"type\":\"message\",\"content\":[],\"usage\":{\"input_tokens\":2095,\"cache_creation_input_tokens\":100,\"cache_read_input_tokens\":1000,\"output_tokens\":503}} | 3195 | 503",
        "embeddings       | {\"data\":[],\"usage\":{\"prompt_tokens\":8,\"total_tokens\":8}} | 8 | 0",
        "total only       | {\"usage\":{\"total_tokens\":50}} | 50 | 0",
        "usage first      | {\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":6},\"choices\":[]} | 5 | 6",
    })
    void readsTheUsageOfAResponseBody(String name, String json, long input, long output) {
        assertEquals(TokenCount.of(input, output), body(json));
    }

    @ParameterizedTest(name = "\"{0}\"")
    @ValueSource(strings = {"{\"choices\":[]}", "{\"usage\":null}", "{\"usage\":{}}", "not json", "", "[]",
            "{\"usage\":{\"prompt_tokens\":\"ten\"}}", "{\"usage\":{\"prompt_tokens\":5"})
    void readsNoUsageFromABodyWithoutOne(String json) {
        assertNull(body(json));
    }

    @Test
    void readsOpenAisFinalChunkWhenIncludeUsageIsSet() {
        assertEquals(TokenCount.of(19, 10), stream(List.of(
                "{\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}],\"usage\":null}",
                "{\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hello\"}}],\"usage\":null}",
                "{\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],\"usage\":null}",
                "{\"id\":\"c\",\"choices\":[],\"usage\":{\"prompt_tokens\":19,\"completion_tokens\":10,\"total_tokens\":29}}",
                "[DONE]")));
    }

    @Test
    void readsAnthropicsInputFromMessageStartAndOutputFromTheLastMessageDelta() {
        assertEquals(TokenCount.of(25 + 400, 15), stream(List.of(
                "{\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"content\":[],\"usage\":{\"input_tokens\":25,\"cache_read_input_tokens\":400,\"output_tokens\":1}}}",
                "{\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}",
                "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hello\"}}",
                "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":15}}",
                "{\"type\":\"message_stop\"}")));
    }

    @Test
    void readsTheResponsesApisCompletedEvent() {
        assertEquals(TokenCount.of(36, 87), stream(List.of(
                "{\"type\":\"response.created\",\"response\":{\"id\":\"resp_1\",\"usage\":null}}",
                "{\"type\":\"response.output_text.delta\",\"delta\":\"Hi\"}",
                "{\"type\":\"response.completed\",\"response\":{\"id\":\"resp_1\",\"usage\":{\"input_tokens\":36,\"output_tokens\":87,\"total_tokens\":123}}}")));
    }

    @Test
    void aStreamThatNeverReportsUsageLeavesTheEstimateStanding() {
        assertNull(stream(List.of(
                "{\"choices\":[{\"delta\":{\"content\":\"the \\\"usage\\\" field is null\"}}],\"usage\":null}",
                "[DONE]")));
    }

    @Test
    void readsAPayloadFromTheMiddleOfABuffer() {
        byte[] buffer = "data: {\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":4}}\n\n".getBytes(StandardCharsets.UTF_8);
        StreamUsage usage = new StreamUsage();
        usage.onData(buffer, 6, buffer.length - 8);
        assertEquals(TokenCount.of(3, 4), usage.usage());
    }
}
