package io.modelegress.core.sse;

/**
 * Whether a model stream that is ending was finished by its upstream, judged from the events that went past: an
 * end marker ({@code [DONE]}, Anthropic's {@code message_stop}, a terminal Responses event), a finish reason without
 * the marker (complete; the marker the SDKs expect is added), an error event (the upstream told the agent), or
 * nothing of the sort (the answer was cut, whatever the transport said).
 *
 * <p>Recognised by plain string scans of each {@code data:} line (no JSON parse per event): the providers write
 * {@code "type"} first in each event, and whitespace after a colon is tolerated. A stream of no known model API (a
 * tool server's events) is never judged: its end is its own business.
 */
public final class StreamCompletion {
    /** The event format of the stream, known from its first recognisable event. */
    public enum Api { UNKNOWN, CHAT, RESPONSES, ANTHROPIC }

    /** How far the stream got. */
    public enum End { OPEN, FINISHED, MARKER, ERROR }

    private Api api = Api.UNKNOWN;
    private End end = End.OPEN;
    private long sequenceNumber = -1;

    public Api api() { return api; }

    public End end() { return end; }

    /** The highest Responses {@code sequence_number} seen, or -1. */
    public long sequenceNumber() { return sequenceNumber; }

    /** True when the stream may end here as a success (with {@link #missingEndMarker()} appended if not null). */
    public boolean complete() { return api == Api.UNKNOWN || end != End.OPEN; }

    /** The end marker to add for a stream that finished without one, or null. */
    public String missingEndMarker() {
        if (end != End.FINISHED) return null;
        if (api == Api.ANTHROPIC) return "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
        if (api == Api.CHAT) return "data: [DONE]\n\n";
        return null;
    }

    /** One {@code data:} line of an event whose {@code event:} field was {@code eventType} (or null). */
    public void onData(String eventType, String data) {
        if (data.equals("[DONE]")) {
            end = End.MARKER;
            return;
        }
        if (api == Api.UNKNOWN) api = recognise(eventType, data);
        switch (api) {
            case CHAT:
                if (nullValue(data, "finish_reason") == Boolean.FALSE && end == End.OPEN) end = End.FINISHED;
                if (data.contains("\"error\"") && !data.contains("\"choices\"")) end = End.ERROR;
                break;
            case ANTHROPIC: {
                String type = firstString(data, "type");
                if ("message_stop".equals(type)) end = End.MARKER;
                else if ("error".equals(type) || "error".equals(eventType)) end = End.ERROR;
                else if ("message_delta".equals(type) && end == End.OPEN
                        && nullValue(data, "stop_reason") == Boolean.FALSE) end = End.FINISHED;
                break;
            }
            case RESPONSES: {
                String type = firstString(data, "type");
                long seq = number(data, "sequence_number");
                if (seq > sequenceNumber) sequenceNumber = seq;
                if ("response.completed".equals(type) || "response.failed".equals(type)
                        || "response.incomplete".equals(type)) end = End.MARKER;
                else if ("error".equals(type)) end = End.ERROR;
                break;
            }
            default:
                break;
        }
    }

    private static Api recognise(String eventType, String data) {
        if (data.contains("\"chat.completion.chunk\"") || data.contains("\"choices\"")) return Api.CHAT;
        String type = firstString(data, "type");
        if (type == null) return Api.UNKNOWN;
        if (type.startsWith("response.")) return Api.RESPONSES;
        if (type.startsWith("message_") || type.startsWith("content_block_")) return Api.ANTHROPIC;
        return Api.UNKNOWN;
    }

    /** Index of the first character of {@code key}'s value (after the colon and any spaces), or -1. */
    private static int valueStart(String data, String key) {
        String quoted = "\"" + key + "\"";
        int i = data.indexOf(quoted);
        if (i < 0) return -1;
        i += quoted.length();
        while (i < data.length() && data.charAt(i) == ' ') i++;
        if (i >= data.length() || data.charAt(i) != ':') return -1;
        i++;
        while (i < data.length() && data.charAt(i) == ' ') i++;
        return i < data.length() ? i : -1;
    }

    /** The first string value of {@code key}, or null (absent, not a string, or escaped). */
    static String firstString(String data, String key) {
        int i = valueStart(data, key);
        if (i < 0 || data.charAt(i) != '"') return null;
        int close = data.indexOf('"', i + 1);
        return close < 0 ? null : data.substring(i + 1, close);
    }

    /** TRUE when the first {@code key} is JSON null, FALSE when it has another value, null when absent. */
    private static Boolean nullValue(String data, String key) {
        int i = valueStart(data, key);
        if (i < 0) return null;
        return data.startsWith("null", i) ? Boolean.TRUE : Boolean.FALSE;
    }

    private static long number(String data, String key) {
        int i = valueStart(data, key);
        if (i < 0) return -1;
        long n = 0;
        int digits = 0;
        while (i < data.length() && Character.isDigit(data.charAt(i)) && digits < 18) {
            n = n * 10 + (data.charAt(i++) - '0');
            digits++;
        }
        return digits == 0 ? -1 : n;
    }
}
