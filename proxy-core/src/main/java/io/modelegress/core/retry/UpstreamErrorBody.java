package io.modelegress.core.retry;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;

/**
 * Reads the provider's error code from an error response body, so the policy can tell a context-length or
 * content-policy rejection from any other 400. Shapes understood:
 * <ul>
 *   <li>OpenAI / Azure: {@code {"error": {"code": "context_length_exceeded", "type": "invalid_request_error"}}}
 *       (Azure's content filter: {@code "code": "content_filter"});</li>
 *   <li>Anthropic: {@code {"type": "error", "error": {"type": "overloaded_error"}}}.</li>
 * </ul>
 * {@code error.code} wins over {@code error.type}: the type is a broad class, the code the specific reason.
 * Anything else (not JSON, no error object, truncated) gives null; this is a hint, never a reason to fail.
 */
public final class UpstreamErrorBody {
    // Thread-safe once configured; only used for reading trees.
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private UpstreamErrorBody() {}

    /** The provider's error code, or null. The body should already be bounded by the caller. */
    public static String errorCode(byte[] json) {
        if (json == null || json.length == 0) return null;
        try {
            return errorCode(MAPPER.readTree(json));
        } catch (IOException notJson) {
            return null;
        }
    }

    public static String errorCode(String json) {
        if (json == null || json.isEmpty()) return null;
        try {
            return errorCode(MAPPER.readTree(json));
        } catch (JsonProcessingException notJson) {
            return null;
        }
    }

    static String errorCode(JsonNode root) {
        JsonNode error = root == null ? null : root.get("error");
        if (error == null || !error.isObject()) return null;
        String code = scalarText(error.get("code"));
        return code != null ? code : scalarText(error.get("type"));
    }

    /** Parses an object, or returns null: for callers that only care whether it is one. */
    static JsonNode readObject(String json) {
        try {
            JsonNode node = MAPPER.readTree(json);
            return node != null && node.isObject() ? node : null;
        } catch (JsonProcessingException notJson) {
            return null;
        }
    }

    // Some providers send numeric codes; an object or array here is not a code.
    private static String scalarText(JsonNode node) {
        if (node == null || !(node.isTextual() || node.isNumber())) return null;
        String text = node.asText();
        return text.isEmpty() ? null : text;
    }
}
