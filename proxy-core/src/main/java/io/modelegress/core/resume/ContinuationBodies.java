package io.modelegress.core.resume;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.modelegress.core.sse.StreamCompletion;
import java.io.IOException;

/**
 * The request body of a prefill continuation: the agent's request with one more message, the assistant's, holding the
 * text already sent, so the model writes only the remainder. OpenAI-compatible servers (vLLM, SGLang) continue that
 * message with {@code continue_final_message: true, add_generation_prompt: false}; Anthropic continues a final
 * assistant message natively (it refuses trailing whitespace there, so that is held back and matched like a replay).
 * The Responses API has no prefill: its continuations are always replays.
 */
public final class ContinuationBodies {
    private ContinuationBodies() {}

    /** A prefill body, or null when this request cannot be prefilled (no messages array, the Responses API, not JSON). */
    public static Prefill prefill(byte[] original, SentText sent) {
        JsonNode root;
        try {
            root = SentText.JSON.readTree(original);
        } catch (IOException e) {
            return null;
        }
        if (!(root instanceof ObjectNode) || !(root.get("messages") instanceof ArrayNode)) return null;
        ObjectNode body = ((ObjectNode) root).deepCopy();
        ArrayNode messages = (ArrayNode) body.get("messages");
        String text = sent.text();
        String heldBack = "";
        switch (sent.api()) {
            case CHAT:
                body.put("continue_final_message", true);
                body.put("add_generation_prompt", false);
                break;
            case ANTHROPIC: {
                int end = text.length();
                while (end > 0 && Character.isWhitespace(text.charAt(end - 1))) end--;
                heldBack = text.substring(end);
                text = text.substring(0, end);
                break;
            }
            default:
                return null;
        }
        ObjectNode m = messages.addObject();
        m.put("role", "assistant");
        m.put("content", text);
        try {
            return new Prefill(SentText.JSON.writeValueAsBytes(body), heldBack);
        } catch (IOException e) {
            return null;
        }
    }

    /** A prefill body and the tail of the sent text it leaves out ({@code heldBack}, which the model may repeat). */
    public record Prefill(byte[] body, String heldBack) {}

    /** Whether {@code api}'s requests can carry a prefill at all. */
    public static boolean canPrefill(StreamCompletion.Api api) {
        return api == StreamCompletion.Api.CHAT || api == StreamCompletion.Api.ANTHROPIC;
    }
}
