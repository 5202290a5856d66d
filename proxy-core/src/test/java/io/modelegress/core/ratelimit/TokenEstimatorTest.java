package io.modelegress.core.ratelimit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class TokenEstimatorTest {
    private final TokenEstimator estimator = new TokenEstimator();

    private TokenCount estimate(String json) {
        return estimator.estimate(json.getBytes(StandardCharsets.UTF_8));
    }

    static Stream<EstimateExamples.Example> examples() {
        return Arrays.stream(EstimateExamples.ALL);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("examples")
    void estimatesRealisticPromptsWithinATwentyFivePercentError(EstimateExamples.Example example) {
        TokenCount estimate = estimator.estimate(example.bytes());
        double error = (double) (estimate.input() - example.realInputTokens()) / example.realInputTokens();
        assertTrue(Math.abs(error) <= 0.25,
                String.format("%s: estimated %d, real %d (%+.1f%%)", example.name(), estimate.input(),
                        example.realInputTokens(), 100 * error));
        assertEquals(example.outputLimit(), estimate.output());
    }

    @Test
    void averagesUnderFifteenPercentErrorOverTheExamples() {
        double sum = 0;
        for (EstimateExamples.Example example : EstimateExamples.ALL) {
            long estimate = estimator.estimate(example.bytes()).input();
            sum += Math.abs((double) (estimate - example.realInputTokens()) / example.realInputTokens());
        }
        assertTrue(sum / EstimateExamples.ALL.length <= 0.15, "mean absolute error " + sum / EstimateExamples.ALL.length);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        // 40 bytes of text = 10 tokens, + 4 per message
        "string content      | {\"messages\":[{\"role\":\"user\",\"content\":\"0123456789012345678901234567890123456789\"}]} | 14",
        "text parts          | {\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"01234567890123456789\"},{\"type\":\"text\",\"text\":\"01234567890123456789\"}]}]} | 14",
        "two messages        | {\"messages\":[{\"role\":\"system\",\"content\":\"0123\"},{\"role\":\"user\",\"content\":\"0123\"}]} | 10",
        "legacy prompt       | {\"prompt\":\"0123456789012345678901234567890123456789\"} | 10",
        "prompt array        | {\"prompt\":[\"01234567890123456789\",\"01234567890123456789\"]} | 10",
        "anthropic system    | {\"system\":\"0123456789012345678901234567890123456789\",\"messages\":[]} | 10",
        "system parts        | {\"system\":[{\"type\":\"text\",\"text\":\"0123456789012345678901234567890123456789\",\"cache_control\":{\"type\":\"ephemeral\"}}]} | 10",
        "responses input     | {\"instructions\":\"01234567890123456789\",\"input\":\"01234567890123456789\"} | 10",
        "tool call arguments | {\"messages\":[{\"role\":\"assistant\",\"tool_calls\":[{\"id\":\"c\",\"type\":\"function\",\"function\":{\"name\":\"f\",\"arguments\":\"0123456789012345678901234567890123456789\"}}]}]} | 14",
        "non-ASCII text      | {\"prompt\":\"日本語のテキスト\"} | 6",
        "image counted flat  | {\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\",\"image_url\":{\"url\":\"data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk\"}}]}]} | 804",
        "fields ignored      | {\"model\":\"gpt-4o\",\"temperature\":0.2,\"metadata\":{\"content\":\"not a prompt\"},\"messages\":[]} | 0",
    })
    void countsThePromptTextWhereverTheDialectPutsIt(String name, String json, long input) {
        assertEquals(input, estimate(json).input());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "max_tokens            | {\"max_tokens\":300}             | 300",
        "max_completion_tokens | {\"max_completion_tokens\":700}  | 700",
        "max_output_tokens     | {\"max_output_tokens\":50}       | 50",
        "n choices             | {\"max_tokens\":100,\"n\":3}     | 300",
        "absent                | {\"messages\":[]}                | 1024",
        "absent, n choices     | {\"n\":2}                        | 2048",
        "not a number          | {\"max_tokens\":\"lots\"}        | 1024",
    })
    void reservesTheOutputLimitOrTheDefault(String name, String json, long output) {
        assertEquals(output, estimate(json).output());
    }

    @Test
    void takesADifferentDefaultOutputWhenConfigured() {
        assertEquals(4096, new TokenEstimator(4096).estimate("{}".getBytes(StandardCharsets.UTF_8)).output());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new TokenEstimator(-1));
        assertEquals("defaultOutputTokens: -1 (expected: >= 0)", e.getMessage());
    }

    @ParameterizedTest(name = "\"{0}\"")
    @ValueSource(strings = {"", "not json", "[1,2,3]", "\"a string\"", "{\"messages\":[{\"content\":\"cut off", "{\"a\":}"})
    void givesTheSmallDefaultForABodyItCannotRead(String body) {
        assertEquals(TokenEstimator.UNPARSEABLE, estimate(body));
    }

    @Test
    void readsAStreamLikeAByteArray() {
        byte[] body = EstimateExamples.CODING_AGENT.getBytes(StandardCharsets.UTF_8);
        assertEquals(estimator.estimate(body), estimator.estimate(new ByteArrayInputStream(body)));
    }

    @Test
    void readsASliceOfALargerArray() {
        byte[] body = ("xx" + EstimateExamples.SHORT_CHAT + "yy").getBytes(StandardCharsets.UTF_8);
        assertEquals(estimate(EstimateExamples.SHORT_CHAT), estimator.estimate(body, 2, body.length - 4));
    }
}
