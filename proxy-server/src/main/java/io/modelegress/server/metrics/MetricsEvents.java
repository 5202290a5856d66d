package io.modelegress.server.metrics;

import io.modelegress.server.events.ExchangeEvents;
import io.modelegress.server.events.RequestOutcome;
import io.modelegress.server.http.RequestContext;

/** The metrics as a listener of every request's life: each step is recorded here and nowhere else. */
public final class MetricsEvents implements ExchangeEvents {
    private final EgressMetrics metrics;

    public MetricsEvents(EgressMetrics metrics) { this.metrics = metrics; }

    @Override
    public void admitted(RequestContext rc, String upstream, long queuedNanos) { metrics.queueWait(upstream, queuedNanos); }

    @Override
    public void responseHeaders(RequestContext rc, String upstream, int status) {
        metrics.timeToFirstByte(rc.routeName(), upstream, rc.firstByteNanos - rc.startNanos);
    }

    @Override
    public void attemptEnd(RequestContext rc, String upstream, String result) { metrics.attempt(upstream, result); }

    @Override
    public void retry(RequestContext rc, String reason) { metrics.retry(reason); }

    @Override
    public void hedge(RequestContext rc, String outcome) { metrics.hedge(outcome); }

    @Override
    public void retryStopped(RequestContext rc, String upstream, String reason) { metrics.retryStopped(upstream, reason); }

    @Override
    public void resume(RequestContext rc, String strategy, String outcome) { metrics.resume(rc.routeName(), strategy, outcome); }

    @Override
    public void requestEnd(RequestContext rc, RequestOutcome outcome, long nowNanos) {
        if (outcome == RequestOutcome.ERROR && rc.error != null) metrics.error(rc.error.code(), rc.routeName());
        if (outcome == RequestOutcome.CANCELLED) metrics.cancelled(rc.routeName());
        metrics.request(rc.routeName(), rc.upstream, rc.status, outcome, nowNanos - rc.startNanos);
        if (rc.streamedUpload) metrics.uploadBytes(rc.routeName(), rc.bytesIn);
    }
}
