package io.modelegress.core.retry;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * Recognises an error sent inside a {@code 200 text/event-stream} response. Azure OpenAI (and Anthropic's
 * {@code event: error}) can answer 200 and put the failure in the first event, so the status alone says nothing.
 * Held back before commit, such an event lets the server treat the attempt as failed (or at least log it as one).
 */
public final class SseErrorEvent {
    private SseErrorEvent() {}

    /**
     * Whether the {@code data:} payload of an event is a JSON object with an {@code error} member.
     * {@code [DONE]}, ordinary chunks and garbage are not.
     */
    public static boolean isInBandError(String firstEventData) {
        return errorObject(firstEventData) != null;
    }

    /** The provider's error code in an in-band error event (as {@link UpstreamErrorBody}), or null. */
    public static String errorCode(String eventData) {
        JsonNode root = errorObject(eventData);
        return root == null ? null : UpstreamErrorBody.errorCode(root);
    }

    private static JsonNode errorObject(String data) {
        if (data == null) return null;
        String trimmed = data.trim();
        // Cheap screen first: most events are content chunks and need no parse.
        if (!trimmed.startsWith("{") || !trimmed.contains("\"error\"")) return null;
        JsonNode root = UpstreamErrorBody.readObject(trimmed);
        if (root == null) return null;
        JsonNode error = root.get("error");
        return error == null || error.isNull() ? null : root;
    }
}
