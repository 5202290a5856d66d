package io.modelegress.server.upstream;

import io.modelegress.server.http.ErrorResponses;
import io.modelegress.server.http.HopByHop;
import io.modelegress.core.retry.RetryDecision;
import io.modelegress.server.http.RequestContext;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;

/**
 * The upstream's response head made the agent's, in place (no copy of its headers): hop-by-hop headers go, every
 * {@code x-egress-*} goes (only the sidecar speaks that namespace), ours come in. The provider's request id stays
 * (SDKs expose it; support tickets quote it) with ours beside it. What the retry policy and the limiter read later
 * (retry-after, quota headers) stays.
 */
final class ResponseHeads {
    private ResponseHeads() {}

    /**
     * 100 Continue, 102 Processing, 103 Early Hints (and an unsolicited 101): an interim head, not the response. A
     * head the decoder could not read is not one.
     */
    static boolean interim(HttpResponse resp) {
        return !resp.decoderResult().isFailure() && resp.status().codeClass() == HttpStatusClass.INFORMATIONAL;
    }

    /**
     * One retry authority: an error answer relayed after the sidecar retried (or may not retry) tells the agent's SDK
     * not to multiply it.
     */
    static void markRetried(HttpResponse errorHead, RequestContext rc) {
        RetryDecision.StopReason why = rc.retryStopped;
        if (rc.attempts > 1 || why == RetryDecision.StopReason.ATTEMPTS_EXHAUSTED
                || why == RetryDecision.StopReason.BUDGET_EXHAUSTED) {
            errorHead.headers().set(ErrorResponses.X_SHOULD_RETRY, "false");
        }
    }

    static boolean bodiless(int status, String method) {
        return status == 204 || status == 304 || status < 200 || HttpMethod.HEAD.name().equals(method);
    }

    /** Rewrites {@code resp} for the agent; true when it is an event stream the sidecar can read as it passes. */
    static boolean prepare(HttpResponse resp, RequestContext rc, boolean keepAlive, boolean bodiless) {
        resp.setProtocolVersion(HttpVersion.HTTP_1_1);
        HttpHeaders h = resp.headers();
        boolean lengthKnown = HttpUtil.isContentLengthSet(resp);
        HopByHop.strip(h);
        HopByHop.removePrefixed(h, ErrorResponses.X_EGRESS_PREFIX);
        rc.upstreamRequestId = h.get(ErrorResponses.X_REQUEST_ID);
        if (rc.upstreamRequestId == null) {
            rc.upstreamRequestId = h.get(ErrorResponses.REQUEST_ID);
            h.set(ErrorResponses.X_REQUEST_ID, rc.requestId);
        }
        h.set(ErrorResponses.X_EGRESS_REQUEST_ID, rc.requestId).setInt(ErrorResponses.X_EGRESS_ATTEMPTS, rc.attempts);
        if (!lengthKnown && !bodiless) HttpUtil.setTransferEncodingChunked(resp, true);
        if (!keepAlive) h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        if (rc.pinnedResponse != null) ResponsePins.mark(resp, rc);
        // A compressed event stream (an upstream that ignored our accept-encoding: identity) cannot be scanned or
        // given an error event: it is relayed as a plain body, committed at its head, never held.
        String type = h.get(HttpHeaderNames.CONTENT_TYPE);
        String encoding = h.get(HttpHeaderNames.CONTENT_ENCODING);
        return type != null && type.regionMatches(true, 0, "text/event-stream", 0, 17)
                && (encoding == null || encoding.equalsIgnoreCase("identity"));
    }
}
