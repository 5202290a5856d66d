package io.modelegress.bench;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.util.regex.Pattern;

/** The mock's fixed bodies, shaped like OpenAI chat completions, and the one question it asks of a request body. */
final class MockResponses {
    private static final Pattern STREAM_TRUE = Pattern.compile("\"stream\"\\s*:\\s*true");

    /** A non-streaming chat completion of about 300 bytes. */
    static final byte[] COMPLETION = ("{\"id\":\"chatcmpl-bench0001\",\"object\":\"chat.completion\",\"created\":1700000000,"
            + "\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":"
            + "\"Fixed reply from the model-egress benchmark mock.\"},\"finish_reason\":\"stop\"}],"
            + "\"usage\":{\"prompt_tokens\":250,\"completion_tokens\":12,\"total_tokens\":262}}").getBytes(StandardCharsets.US_ASCII);

    /** One SSE event carrying one token. */
    static final byte[] CHUNK = ("data: {\"id\":\"chatcmpl-bench0001\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,"
            + "\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\" token\"},\"finish_reason\":null}]}\n\n")
            .getBytes(StandardCharsets.US_ASCII);

    static final byte[] DONE = "data: [DONE]\n\n".getBytes(StandardCharsets.US_ASCII);

    private MockResponses() {}

    /** True when the JSON body asks for a stream ({@code "stream": true} anywhere; good enough for a mock). */
    static boolean wantsStream(ByteBuf body) {
        if (!body.isReadable()) return false;
        return STREAM_TRUE.matcher(body.toString(StandardCharsets.UTF_8)).find();
    }
}
