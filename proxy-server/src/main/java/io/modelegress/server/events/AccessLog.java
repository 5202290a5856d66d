package io.modelegress.server.events;

import io.modelegress.server.http.RequestContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One JSON line per request on the "access" logger. Never carries headers or bodies, so never a secret.
 *
 * <p>The event loop only copies the request's figures into an {@link AccessLine} and queues it: the JSON is built,
 * and the logger called, on the access log's own thread ({@link AccessLogWriter}), which writes what it drained in
 * one batch. Built and written on the loop, with a write per line, the access log had cost more than half as much
 * CPU again as the rest of a request (issue 20).
 */
public final class AccessLog implements ExchangeEvents {
    /** The access log as a listener: it writes one line when a request ends. */
    public static final ExchangeEvents EVENTS = new AccessLog();

    static final Logger LOG = LoggerFactory.getLogger("access");
    private static final AccessLogWriter WRITER = new AccessLogWriter(LOG);

    @Override
    public void requestEnd(RequestContext rc, RequestOutcome outcome, long nowNanos) { write(rc, nowNanos); }

    private AccessLog() {}

    public static void write(RequestContext c, long nowNanos) {
        if (!LOG.isInfoEnabled()) return;
        WRITER.offer(new AccessLine(c.requestId, c.method, c.path, c.routeName(), c.upstream, c.upstreamRequestId,
                c.status, c.error == null ? null : c.error.code(), c.attempts, c.streaming, c.resume, c.queueWaitNanos,
                c.connectNanos, c.firstByteNanos < 0 ? -1 : c.firstByteNanos - c.startNanos, nowNanos - c.startNanos,
                c.bytesIn, c.bytesOut, c.proxyAuth, c.upstreamProtocol, c.websocket));
    }

    /** Writes out what is queued; waits at most {@code millis} (at shutdown, after the drain). */
    public static boolean flush(long millis) { return WRITER.flush(millis); }

    /** Lines dropped because the queue was full (stdout not keeping up). */
    public static long dropped() { return WRITER.dropped(); }
}
