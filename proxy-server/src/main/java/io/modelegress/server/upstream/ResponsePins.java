package io.modelegress.server.upstream;

import io.modelegress.core.config.RouteTarget;
import io.modelegress.core.error.EgressException;
import io.modelegress.core.route.ResponseAffinity;
import io.modelegress.core.route.ResponsesApi;
import io.modelegress.server.http.RequestContext;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufInputStream;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Stateful Responses API follow-ups stay where their response was made (core {@link ResponseAffinity} remembers
 * where): {@link #pin} sets {@link RequestContext#pinnedTarget} when a request follows up a remembered response, and
 * {@link RouteTargets} then offers that one entry of the route only (retries on it as the policy allows, never a
 * fallback: another account could only answer 404). {@link #learner} reads the id a create call's answer carries.
 */
final class ResponsePins {
    /** The answer of a pinned request that failed says so, since the route's fallbacks were not tried. */
    static final String X_EGRESS_FALLBACK = "x-egress-fallback";
    private static final ByteBuf PREVIOUS = Unpooled.unreleasableBuffer(
            Unpooled.wrappedBuffer("\"previous_response_id\"".getBytes(StandardCharsets.US_ASCII)));

    private ResponsePins() {}

    /** At the exchange's start: is this a Responses API call, and does it follow up a response we know the home of? */
    static void pin(ExchangeContext rt, RequestContext rc, FullHttpRequest request) {
        ResponseAffinity affinity = rt.responses();
        if (affinity == null || !affinity.enabled()) return;
        ResponsesApi.Call call = ResponsesApi.classify(rc.method, request.uri());
        rc.responsesCall = call;
        if (call == null || affinity.isEmpty()) return;
        String id = call.responseId();
        if (call.kind() == ResponsesApi.Kind.CREATE) {
            // Only a body that names the field is parsed, and only up to it.
            ByteBuf body = request.content();
            if (ByteBufUtil.indexOf(PREVIOUS.duplicate(), body.duplicate()) < 0) return;
            id = io.modelegress.core.route.RequestBodies.topLevelString(new ByteBufInputStream(body.duplicate()), "previous_response_id");
        }
        String home = affinity.upstreamOf(id);
        if (home == null) return; // unknown (never seen, expired, restarted): routed as any request
        List<RouteTarget> targets = rc.route.upstreams();
        for (int i = 0; i < targets.size(); i++) {
            if (targets.get(i).upstream().equals(home)) {
                rc.pinnedTarget = i;
                rc.pinnedResponse = id;
                return;
            }
        }
    }

    /** Why a pinned request's failure was not tried on the route's other upstreams; null when nothing was skipped. */
    static String whyNoFallback(RequestContext rc) {
        if (rc.pinnedResponse == null || rc.route.upstreams().size() < 2) return null;
        return "response " + rc.pinnedResponse + " lives on upstream \"" + printable(rc.route.upstreams().get(rc.pinnedTarget).upstream())
                + "\"; no fallback was tried: another upstream's account could only answer 404 for it";
    }

    /** Our own error for a pinned request, with the reason no fallback was tried. */
    static EgressException explain(EgressException e, RequestContext rc) {
        String why = whyNoFallback(rc);
        return why == null ? e : e.because(why);
    }

    /** An error answer of a pinned request, relayed as the upstream sent it, gets {@code x-egress-fallback}. */
    static void mark(HttpResponse resp, RequestContext rc) {
        if (resp.status().code() < 400 || whyNoFallback(rc) == null) return;
        resp.headers().set(X_EGRESS_FALLBACK, "skipped (response " + rc.pinnedResponse + " lives on upstream \""
                + printable(rc.route.upstreams().get(rc.pinnedTarget).upstream()) + "\")");
    }

    /**
     * The reader's watch for the id in a create call's successful answer (null for any other answer). A deleted
     * response is forgotten here too.
     */
    static Learner learner(ExchangeContext rt, RequestContext rc, int status, UpstreamState upstream) {
        ResponsesApi.Call call = rc.responsesCall;
        if (call == null || status < 200 || status >= 300) return null;
        if (call.kind() == ResponsesApi.Kind.FOLLOW_UP) {
            if ("DELETE".equals(rc.method)) rt.responses().forget(call.responseId());
            return null;
        }
        return new Learner(rt.responses(), upstream.settings.name());
    }

    /** Reads the response id from the first bytes the reader sees anyway; copies at most {@link #MAX_PREFIX} bytes. */
    static final class Learner {
        static final int MAX_PREFIX = 4096;
        private final ResponseAffinity affinity;
        private final String upstream;
        private byte[] prefix;
        private int length;
        private boolean done;

        private Learner(ResponseAffinity affinity, String upstream) {
            this.affinity = affinity;
            this.upstream = upstream;
        }

        /** One piece of the answer's body; {@code stream}: the event stream's watch, or null for a JSON body. */
        void onContent(ByteBuf content, StreamWatch stream) {
            if (done) return;
            if (stream != null) {
                String first = stream.firstEventData();
                if (first == null) return;
                done = true;
                remember(ResponsesApi.idOfEvent(first));
                return;
            }
            if (prefix == null) prefix = new byte[MAX_PREFIX];
            int n = Math.min(content.readableBytes(), MAX_PREFIX - length);
            content.getBytes(content.readerIndex(), prefix, length, n);
            length += n;
            String id = ResponsesApi.idOfBody(new java.io.ByteArrayInputStream(prefix, 0, length));
            if (id != null || length == MAX_PREFIX) {
                done = true;
                prefix = null;
                remember(id);
            }
        }

        private void remember(String id) {
            if (id != null) affinity.remember(id, upstream);
        }
    }

    private static String printable(String s) {
        for (int i = 0; i < s.length(); i++) if (s.charAt(i) < 0x20 || s.charAt(i) > 0x7e) return "?";
        return s;
    }
}
