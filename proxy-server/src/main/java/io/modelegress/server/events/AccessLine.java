package io.modelegress.server.events;

import com.fasterxml.jackson.core.io.JsonStringEncoder;

/**
 * The figures of one access-log line, copied off the request on its event loop; {@link #appendTo} builds the JSON
 * on the access log's thread. Times in nanoseconds ({@code -1}: did not happen), printed as milliseconds with
 * three decimals.
 */
record AccessLine(String requestId, String method, String path, String route, String upstream, String upstreamRequestId,
                  int status, String error, int attempts, boolean stream, String resume, long queueNanos,
                  long connectNanos, long ttfbNanos, long durationNanos, long bytesIn, long bytesOut, String proxyAuth,
                  String upstreamProtocol, String websocket) {

    /** The line, as the access log has always printed it (docs/operations.md, "Access log"). */
    StringBuilder appendTo(StringBuilder b) {
        b.append("{\"request_id\":\"");
        escaped(b, requestId).append("\",\"method\":\"");
        escaped(b, method).append("\",\"path\":\"");
        escaped(b, path).append("\",\"route\":\"");
        escaped(b, route).append("\",\"upstream\":\"");
        escaped(b, upstream).append("\",\"upstream_request_id\":");
        if (upstreamRequestId == null) b.append("null");
        else escaped(b.append('"'), upstreamRequestId).append('"');
        b.append(",\"status\":").append(status).append(",\"error\":");
        quotedOrNull(b, error).append(",\"attempts\":").append(attempts).append(",\"stream\":").append(stream).append(",\"resume\":");
        if (resume == null) b.append("null");
        else escaped(b.append('"'), resume).append('"');
        millis(b.append(",\"queue_ms\":"), queueNanos);
        millisOrNull(b.append(",\"connect_ms\":"), connectNanos);
        millisOrNull(b.append(",\"ttfb_ms\":"), ttfbNanos);
        millis(b.append(",\"duration_ms\":"), durationNanos);
        b.append(",\"bytes_in\":").append(bytesIn).append(",\"bytes_out\":").append(bytesOut).append(",\"proxy_auth\":");
        quotedOrNull(b, proxyAuth).append(",\"upstream_protocol\":");
        quotedOrNull(b, upstreamProtocol);
        if (websocket != null) escaped(b.append(",\"websocket\":\""), websocket).append('"');
        return b.append('}');
    }

    private static StringBuilder quotedOrNull(StringBuilder b, String s) {
        return s == null ? b.append("null") : b.append('"').append(s).append('"');
    }

    private static void millisOrNull(StringBuilder b, long nanos) {
        if (nanos < 0) b.append("null");
        else millis(b, nanos);
    }

    /** {@code nanos} as milliseconds with three decimals, rounded half up: 1234567 → 1.235. */
    static void millis(StringBuilder b, long nanos) {
        long micros = (nanos + 500) / 1000;
        long frac = micros % 1000;
        b.append(micros / 1000).append('.');
        if (frac < 100) b.append('0');
        if (frac < 10) b.append('0');
        b.append(frac);
    }

    /** {@code s} as the inside of a JSON string, escaped by Jackson straight into {@code b} (null as empty). */
    static StringBuilder escaped(StringBuilder b, String s) {
        if (s != null) JsonStringEncoder.getInstance().quoteAsString(s, b);
        return b;
    }
}
