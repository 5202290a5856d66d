package io.modelegress.core.error;

import com.fasterxml.jackson.core.io.JsonStringEncoder;
import io.modelegress.core.config.RouteSettings.Dialect;
import io.modelegress.core.sse.StreamCompletion;

/** The one place our own error bodies are rendered, in the route's dialect (docs/errors.md). */
public final class ErrorBodies {
    private ErrorBodies() {}

    public static String json(Dialect dialect, ErrorCode code, String message) {
        String m = quote(message);
        if (dialect == Dialect.ANTHROPIC) {
            return "{\"type\":\"error\",\"error\":{\"type\":\"" + anthropicType(code) + "\",\"message\":\"" + m + "\"}}";
        }
        return "{\"error\":{\"message\":\"" + m + "\",\"type\":\"egress_error\",\"code\":\"" + code.code()
                + "\",\"param\":null}}";
    }

    /** An SSE error event for a stream that already started: the client's iterator raises instead of hanging. */
    public static String sseEvent(Dialect dialect, ErrorCode code, String message) {
        return sseEvent(dialect, StreamCompletion.Api.UNKNOWN, -1, code, message);
    }

    /**
     * The SSE error event in the format of the stream it ends. A Responses stream gets {@code event: error} with the
     * Responses error event, carrying both the documented flat fields ({@code code}, {@code message}, {@code param})
     * and the nested {@code error} object the API sends on the wire: the OpenAI SDKs raise on a top-level
     * {@code error} (Java {@code SseException}, Python and Node {@code APIError}, with our code), and the Vercel AI
     * SDK's schema accepts either form. Its {@code sequence_number} follows the stream's last one.
     */
    public static String sseEvent(Dialect dialect, StreamCompletion.Api api, long lastSequenceNumber, ErrorCode code,
                                  String message) {
        if (dialect == Dialect.ANTHROPIC || api == StreamCompletion.Api.ANTHROPIC) {
            return "event: error\ndata: " + json(Dialect.ANTHROPIC, code, message) + "\n\n";
        }
        if (api == StreamCompletion.Api.RESPONSES) {
            String m = quote(message);
            return "event: error\ndata: {\"type\":\"error\",\"sequence_number\":" + (lastSequenceNumber + 1)
                    + ",\"code\":\"" + code.code() + "\",\"message\":\"" + m + "\",\"param\":null,"
                    + "\"error\":{\"type\":\"egress_error\",\"code\":\"" + code.code() + "\",\"message\":\"" + m
                    + "\",\"param\":null}}\n\n";
        }
        return "data: " + json(dialect, code, message) + "\n\n";
    }

    /** Anthropic's error types (docs.anthropic.com errors), so its SDK maps our answers to the right exception. */
    static String anthropicType(ErrorCode code) {
        switch (code.status()) {
            case 400: case 405: case 408: case 413: case 414: case 431: return code == ErrorCode.REQUEST_TOO_LARGE ? "request_too_large" : "invalid_request_error";
            case 404: return "not_found_error";
            case 429: return "rate_limit_error";
            case 503: return "overloaded_error";
            default: return "api_error";
        }
    }

    private static String quote(String s) {
        return new String(JsonStringEncoder.getInstance().quoteAsString(s == null ? "" : s));
    }
}
