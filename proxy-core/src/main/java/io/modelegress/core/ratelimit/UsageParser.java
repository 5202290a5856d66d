package io.modelegress.core.ratelimit;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;

/**
 * Reads the real token usage from a response, so that a permit's release can replace the estimate with it.
 *
 * <ul>
 *   <li>OpenAI chat completions: {@code usage.prompt_tokens} + {@code usage.completion_tokens}.
 *   <li>OpenAI Responses: {@code usage.input_tokens} + {@code usage.output_tokens}, at the top or under
 *       {@code response} (the {@code response.completed} stream event).
 *   <li>Anthropic: {@code usage.input_tokens} + {@code cache_creation_input_tokens} + {@code cache_read_input_tokens}
 *       (Anthropic's input count leaves out cached tokens; the estimate counted the whole prompt) +
 *       {@code output_tokens}, at the top or under {@code message} (the {@code message_start} event).
 *   <li>Only {@code usage.total_tokens}: all of it counts as input.
 * </ul>
 * For streams see {@link StreamUsage}. Malformed JSON reads as "no usage", never as an exception.
 */
public final class UsageParser {
    private static final JsonFactory JSON = new JsonFactory();

    private UsageParser() { }

    /** The usage of a whole (non-streamed) response body, or null when it reports none. */
    public static TokenCount fromBody(byte[] body) {
        return fromBody(body, 0, body.length);
    }

    public static TokenCount fromBody(byte[] body, int offset, int length) {
        Fields fields = parse(body, offset, length);
        return fields == null ? null : fields.toTokenCount();
    }

    /** The usage fields one JSON document reports, or null when none. */
    static Fields parse(byte[] json, int offset, int length) {
        try (JsonParser parser = JSON.createParser(json, offset, length)) {
            return parser.nextToken() == JsonToken.START_OBJECT ? findUsage(parser, true) : null;
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** Looks for {@code usage} in the current object and, at the top, in its {@code message} or {@code response}. */
    private static Fields findUsage(JsonParser parser, boolean top) throws IOException {
        Fields found = null;
        while (parser.nextToken() == JsonToken.FIELD_NAME) {
            String field = parser.currentName();
            JsonToken value = parser.nextToken();
            if (field.equals("usage") && value == JsonToken.START_OBJECT) {
                Fields usage = readUsage(parser);
                found = found == null ? usage : found.merge(usage);
            } else if (top && (field.equals("message") || field.equals("response")) && value == JsonToken.START_OBJECT) {
                Fields nested = findUsage(parser, false);
                if (nested != null) found = found == null ? nested : found.merge(nested);
            } else {
                parser.skipChildren();
            }
        }
        return found;
    }

    private static Fields readUsage(JsonParser parser) throws IOException {
        long[] v = {-1, -1, -1, -1, -1, -1, -1};
        while (parser.nextToken() == JsonToken.FIELD_NAME) {
            String field = parser.currentName();
            JsonToken value = parser.nextToken();
            int index = Fields.index(field);
            if (index >= 0 && value == JsonToken.VALUE_NUMBER_INT) {
                v[index] = Math.max(0, parser.getLongValue());
            } else {
                parser.skipChildren();
            }
        }
        return new Fields(v[0], v[1], v[2], v[3], v[4], v[5], v[6]);
    }

    /** The usage counts as reported; -1 where absent. Later reports of a stream override earlier ones field by field. */
    record Fields(long promptTokens, long completionTokens, long inputTokens, long outputTokens,
                  long cacheCreationInputTokens, long cacheReadInputTokens, long totalTokens) {
        static int index(String field) {
            switch (field) {
                case "prompt_tokens": return 0;
                case "completion_tokens": return 1;
                case "input_tokens": return 2;
                case "output_tokens": return 3;
                case "cache_creation_input_tokens": return 4;
                case "cache_read_input_tokens": return 5;
                case "total_tokens": return 6;
                default: return -1;
            }
        }

        Fields merge(Fields later) {
            return new Fields(pick(promptTokens, later.promptTokens), pick(completionTokens, later.completionTokens),
                    pick(inputTokens, later.inputTokens), pick(outputTokens, later.outputTokens),
                    pick(cacheCreationInputTokens, later.cacheCreationInputTokens),
                    pick(cacheReadInputTokens, later.cacheReadInputTokens), pick(totalTokens, later.totalTokens));
        }

        /** Null when nothing usable was reported. */
        TokenCount toTokenCount() {
            long input = promptTokens >= 0 ? promptTokens
                    : inputTokens >= 0 ? inputTokens + Math.max(0, cacheCreationInputTokens) + Math.max(0, cacheReadInputTokens)
                    : -1;
            long output = completionTokens >= 0 ? completionTokens : outputTokens;
            if (input < 0 && output < 0) return totalTokens >= 0 ? TokenCount.of(totalTokens, 0) : null;
            return TokenCount.of(Math.max(0, input), Math.max(0, output));
        }

        private static long pick(long earlier, long later) {
            return later >= 0 ? later : earlier;
        }
    }
}
