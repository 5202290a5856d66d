package io.modelegress.server.events;

import io.modelegress.server.http.RequestContext;
import com.fasterxml.jackson.core.io.JsonStringEncoder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One JSON line per request on the "access" logger, whose appender is asynchronous and never blocks (logback.xml),
 * so writing it from the event loop costs a queue offer. Never carries headers or bodies, so never a secret.
 */
public final class AccessLog implements ExchangeEvents {
    /** The access log as a listener: it writes one line when a request ends. */
    public static final ExchangeEvents EVENTS = new AccessLog();

    @Override
    public void requestEnd(RequestContext rc, RequestOutcome outcome, long nowNanos) { write(rc, nowNanos); }

    private static final Logger LOG = LoggerFactory.getLogger("access");

    private AccessLog() {}

    public static void write(RequestContext c, long nowNanos) {
        if (!LOG.isInfoEnabled()) return;
        StringBuilder b = new StringBuilder(320);
        b.append("{\"request_id\":\"").append(esc(c.requestId))
                .append("\",\"method\":\"").append(esc(c.method))
                .append("\",\"path\":\"").append(esc(c.path))
                .append("\",\"route\":\"").append(esc(c.routeName()))
                .append("\",\"upstream\":\"").append(esc(c.upstream))
                .append("\",\"upstream_request_id\":").append(c.upstreamRequestId == null ? "null" : "\"" + esc(c.upstreamRequestId) + "\"")
                .append(",\"status\":").append(c.status)
                .append(",\"error\":").append(c.error == null ? "null" : "\"" + c.error.code() + "\"")
                .append(",\"attempts\":").append(c.attempts)
                .append(",\"stream\":").append(c.streaming)
                .append(",\"resume\":").append(c.resume == null ? "null" : "\"" + esc(c.resume) + "\"")
                .append(",\"queue_ms\":").append(ms(c.queueWaitNanos))
                .append(",\"connect_ms\":").append(c.connectNanos < 0 ? "null" : ms(c.connectNanos))
                .append(",\"ttfb_ms\":").append(c.firstByteNanos < 0 ? "null" : ms(c.firstByteNanos - c.startNanos))
                .append(",\"duration_ms\":").append(ms(nowNanos - c.startNanos))
                .append(",\"bytes_in\":").append(c.bytesIn)
                .append(",\"bytes_out\":").append(c.bytesOut)
                .append(",\"proxy_auth\":").append(c.proxyAuth == null ? "null" : "\"" + c.proxyAuth + "\"")
                .append(",\"upstream_protocol\":").append(c.upstreamProtocol == null ? "null" : "\"" + c.upstreamProtocol + "\"");
        if (c.websocket != null) b.append(",\"websocket\":\"").append(esc(c.websocket)).append('"');
        b.append('}');
        LOG.info(b.toString());
    }

    private static String ms(long nanos) {
        return String.format(java.util.Locale.ROOT, "%.3f", nanos / 1e6);
    }

    private static String esc(String s) {
        return new String(JsonStringEncoder.getInstance().quoteAsString(s == null ? "" : s));
    }
}
