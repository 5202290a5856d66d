package io.modelegress.core.ratelimit;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.io.InputStream;
import java.util.Set;

/**
 * Estimates what a chat completions, Responses or Anthropic messages request will cost before it is sent, the
 * way OpenAI's own limiter counts it: the prompt's size plus the most the answer may use ({@code max_tokens}).
 *
 * <p>Input: the UTF-8 size of the prompt's text / 4 (English averages about 4 characters per token; counting
 * UTF-8 bytes keeps CJK text, 3 bytes per character, near its real cost), plus 4 tokens of framing per message,
 * a flat {@value #IMAGE_TOKENS} per image, and the JSON size / 4 of tool definitions. Only text fields are read,
 * so base64 images do not count as text. Output: {@code max_tokens}, {@code max_completion_tokens} or
 * {@code max_output_tokens} times {@code n}, or a default when absent. docs/rate-shaping.md gives the measured error.
 *
 * <p>Streams over the body with Jackson's {@link JsonParser}: no tree, and text lengths are read without copying
 * strings. A body that is not a JSON object costs {@link #UNPARSEABLE}.
 */
public final class TokenEstimator {
    public static final int BYTES_PER_TOKEN = 4;
    public static final int TOKENS_PER_MESSAGE = 4;
    public static final int IMAGE_TOKENS = 800;
    /** The output reserved when the request sets no limit: a long answer, not the model's maximum. */
    public static final long DEFAULT_OUTPUT_TOKENS = 1024;
    /** What a body we cannot read costs: small, since the upstream will most likely refuse it at once. */
    public static final TokenCount UNPARSEABLE = TokenCount.of(100, 0);

    private static final JsonFactory JSON = new JsonFactory();
    private static final Set<String> PROMPT_FIELDS = Set.of("messages", "prompt", "input", "system", "instructions");
    private static final Set<String> TOOL_FIELDS = Set.of("tools", "functions");
    private static final Set<String> OUTPUT_LIMIT_FIELDS =
            Set.of("max_tokens", "max_completion_tokens", "max_output_tokens");
    /** Fields of messages and content parts that carry text the model reads. */
    private static final Set<String> TEXT_FIELDS = Set.of("content", "text", "arguments", "thinking", "output",
            "input", "tool_calls", "function_call", "function");
    private static final Set<String> IMAGE_TYPES = Set.of("image_url", "image", "input_image");

    private final long defaultOutputTokens;

    public TokenEstimator() {
        this(DEFAULT_OUTPUT_TOKENS);
    }

    public TokenEstimator(long defaultOutputTokens) {
        if (defaultOutputTokens < 0) {
            throw new IllegalArgumentException(
                    String.format("defaultOutputTokens: %d (expected: >= 0)", defaultOutputTokens));
        }
        this.defaultOutputTokens = defaultOutputTokens;
    }

    public TokenCount estimate(byte[] body) {
        return estimate(body, 0, body.length);
    }

    public TokenCount estimate(byte[] body, int offset, int length) {
        try (JsonParser parser = JSON.createParser(body, offset, length)) {
            return estimate(parser);
        } catch (IOException | RuntimeException e) {
            return UNPARSEABLE;
        }
    }

    /** For a body in a direct buffer (Netty's {@code ByteBufInputStream}); the stream is read, not closed. */
    public TokenCount estimate(InputStream body) {
        try (JsonParser parser = JSON.createParser(body)) {
            return estimate(parser);
        } catch (IOException | RuntimeException e) {
            return UNPARSEABLE;
        }
    }

    private TokenCount estimate(JsonParser parser) throws IOException {
        if (parser.nextToken() != JsonToken.START_OBJECT) return UNPARSEABLE;
        Tally tally = new Tally();
        long outputLimit = -1;
        long choices = 1;
        while (parser.nextToken() == JsonToken.FIELD_NAME) {
            String field = parser.currentName();
            JsonToken value = parser.nextToken();
            if ((field.equals("messages") || field.equals("input")) && value == JsonToken.START_ARRAY) {
                while (parser.nextToken() != JsonToken.END_ARRAY) {
                    if (parser.currentToken() == JsonToken.START_OBJECT) tally.messages++;
                    countText(parser, tally);
                }
            } else if (PROMPT_FIELDS.contains(field)) {
                countText(parser, tally);
            } else if (TOOL_FIELDS.contains(field)) {
                tally.toolBytes += jsonSize(parser);
            } else if (OUTPUT_LIMIT_FIELDS.contains(field) && value == JsonToken.VALUE_NUMBER_INT) {
                outputLimit = Math.max(0, parser.getLongValue());
            } else if (field.equals("n") && value == JsonToken.VALUE_NUMBER_INT) {
                choices = Math.max(1, parser.getLongValue());
            } else {
                parser.skipChildren();
            }
        }
        long input = ceilDiv(tally.textBytes + tally.toolBytes, BYTES_PER_TOKEN)
                + (long) TOKENS_PER_MESSAGE * tally.messages + (long) IMAGE_TOKENS * tally.images;
        long output = (outputLimit < 0 ? defaultOutputTokens : outputLimit) * choices;
        return TokenCount.of(input, output);
    }

    /** Adds the text under the current value: a string, an array of parts, or a message / part object. */
    private static void countText(JsonParser parser, Tally tally) throws IOException {
        JsonToken token = parser.currentToken();
        if (token == JsonToken.VALUE_STRING) {
            tally.textBytes += utf8Length(parser);
        } else if (token == JsonToken.START_ARRAY) {
            while (parser.nextToken() != JsonToken.END_ARRAY) countText(parser, tally);
        } else if (token == JsonToken.START_OBJECT) {
            while (parser.nextToken() == JsonToken.FIELD_NAME) {
                String field = parser.currentName();
                JsonToken value = parser.nextToken();
                if (field.equals("input") && value == JsonToken.START_OBJECT) {
                    tally.toolBytes += jsonSize(parser); // Anthropic tool_use arguments, as JSON
                } else if (TEXT_FIELDS.contains(field)) {
                    countText(parser, tally);
                } else if (field.equals("type") && value == JsonToken.VALUE_STRING && IMAGE_TYPES.contains(parser.getText())) {
                    tally.images++;
                } else {
                    parser.skipChildren();
                }
            }
        }
    }

    /** The UTF-8 size of the current string, read from the parser's buffer without making a String. */
    private static long utf8Length(JsonParser parser) throws IOException {
        char[] chars = parser.getTextCharacters();
        int end = parser.getTextOffset() + parser.getTextLength();
        long bytes = 0;
        for (int i = parser.getTextOffset(); i < end; i++) {
            char c = chars[i];
            // A surrogate pair is 4 bytes in UTF-8: 2 for each half.
            bytes += c < 0x80 ? 1 : c < 0x800 || Character.isSurrogate(c) ? 2 : 3;
        }
        return bytes;
    }

    /** The size of the current value as written, e.g. a tools array, by where it starts and ends. */
    private static long jsonSize(JsonParser parser) throws IOException {
        JsonLocation start = parser.currentTokenLocation();
        parser.skipChildren();
        JsonLocation end = parser.currentLocation();
        long bytes = end.getByteOffset() - start.getByteOffset();
        return bytes > 0 ? bytes : Math.max(0, end.getCharOffset() - start.getCharOffset());
    }

    private static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }

    private static final class Tally {
        long textBytes;
        long toolBytes;
        long messages;
        long images;
    }
}
