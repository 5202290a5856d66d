package io.modelegress.server.upstream;

import io.modelegress.core.config.ResumeSettings;
import io.modelegress.core.config.RouteSettings;
import io.modelegress.core.config.RouteTarget;
import io.modelegress.core.error.EgressException;
import io.modelegress.core.error.ErrorCode;
import io.modelegress.core.resume.ContinuationBodies;
import io.modelegress.core.resume.SentText;
import io.modelegress.core.resume.Splice;
import io.modelegress.core.retry.AttemptOutcome;
import io.modelegress.core.sse.StreamCompletion;
import io.modelegress.server.events.ExchangeEvents;
import io.modelegress.server.http.RequestContext;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * Mid-stream resume for one exchange (issue 16): when a committed stream breaks on a route with {@code resume} on,
 * decides whether and how it continues — the same upstream first, then the route's others, each with its
 * {@code resume_strategy} and, after a prefill, a replay — and keeps what every continuation needs: the text the
 * agent has ({@link SentText}, adopted from the attempt that committed), the original failure (what the agent gets
 * if no continuation works), and the bodies it built (released once, at the exchange's end).
 */
final class StreamResume {
    /** One continuation attempt: where, how, and what became of it (written by its {@link ContinuationReader}). */
    static final class Continuation {
        final Plan plan;
        final Splice splice;
        final SentText sent;
        final FullHttpRequest request;
        int rejectedStatus;
        String diverged;
        boolean streamed;
        boolean forwarded;
        boolean completed;

        Continuation(Plan plan, Splice splice, SentText sent, FullHttpRequest request) {
            this.plan = plan;
            this.splice = splice;
            this.sent = sent;
            this.request = request;
        }

        String strategyWord() { return plan.strategy == ResumeSettings.Strategy.PREFILL ? "prefill" : "replay"; }
    }

    record Plan(int targetIndex, ResumeSettings.Strategy strategy) {}

    private final ResumeSettings settings;
    private final RouteSettings route;
    private final ExchangeEvents events;
    private SentText sent;
    private StreamCompletion shape;
    private EgressException original;
    private int continuations;
    private final Deque<Plan> plans = new ArrayDeque<>();
    private final List<FullHttpRequest> built = new ArrayList<>(2);

    private StreamResume(RouteSettings route, ExchangeEvents events) {
        this.route = route;
        this.settings = route.resume();
        this.events = events;
    }

    /** Null when the route does not resume. */
    static StreamResume forRoute(RouteSettings route, ExchangeEvents events) {
        return route != null && route.resume().enabled() ? new StreamResume(route, events) : null;
    }

    long maxBuffer() { return settings.maxBuffer(); }

    /** Whether a committed failure with {@code code} is continued on this route. */
    boolean resumes(ErrorCode code) { return settings.resumes(code); }

    /** The original stream's shape, for the error event that ends it (null before a committed failure). */
    StreamCompletion shape() { return shape; }

    /** What the agent gets when no continuation works: the original failure, never a continuation's. */
    EgressException failure(EgressException e) { return original != null ? original : e; }

    /**
     * The committed attempt {@code a} failed with {@code e}: the continuation to start, or null to end with
     * {@link #failure}. {@code stale}: a continuation lost to a stale pooled connection, tried again as it was.
     */
    Continuation next(ExchangeContext rt, RequestContext rc, int targetIndex, UpstreamAttempt a, EgressException e,
                      FullHttpRequest request, boolean stale) {
        Continuation was = a.continuation;
        if (was == null) {
            if (original != null || !a.committed()) return null;
            original = e;
            shape = a.streamShape();
            if (!settings.resumes(e.code())) return null;
            SentText s = a.sentForResume();
            String why = s == null ? "the break fell inside an event" : s.whyNot();
            if (why != null) {
                rc.resume = "not resumed: " + why;
                events.resume(rc, "none", "not_resumable");
                return null;
            }
            sent = s;
            planFrom(rt, targetIndex);
        } else if (was.streamed) {
            continuations++; // only a continuation whose stream opened counts against resume.max; a rejection does not
        }
        if (was == null) {
            // the original: planned above
        } else if (stale) {
            plans.addFirst(was.plan);
        } else {
            String outcome = was.rejectedStatus != 0 ? "rejected" : was.diverged != null ? "diverged" : "failed";
            events.resume(rc, was.strategyWord(), outcome);
            rc.resume = was.strategyWord() + ":" + outcome;
            if (was.forwarded) {
                // Text reached the agent: the next continuation starts from there, the same upstream first.
                if (!settings.resumes(e.code()) || !sent.resumable()) return null;
                plans.clear();
                planFrom(rt, was.plan.targetIndex);
            }
        }
        while (!plans.isEmpty()) {
            if (continuations >= settings.max() || rc.deadline.remainingNanos() <= 0) return null;
            Plan p = plans.poll();
            if (rc.pinnedTarget >= 0 && p.targetIndex() != rc.pinnedTarget) continue; // a stateful follow-up stays
            Continuation c = build(request, rc, p);
            if (c == null) continue;
            UpstreamState u = rt.upstream(route.upstreams().get(p.targetIndex).upstream());
            if (!u.budget.tryAcquireRetry()) {
                events.resume(rc, c.strategyWord(), "budget_exhausted");
                return null;
            }
            if (!u.breaker.tryAcquire()) {
                u.budget.onRetryEnd(); // the permit's attempt never starts
                continue;
            }
            return c; // the attempt carries the permit and the breaker's slot; its books give both back
        }
        return null;
    }

    /**
     * {@link #next}, and when it gives a continuation, the hand-off to it: the broken attempt {@code a} aborted with
     * its failure (after the commit point), the request's upstream now the continuation's, the retry counted.
     */
    Continuation handOff(ExchangeContext rt, RequestContext rc, int targetIndex, UpstreamAttempt a, EgressException e,
                         FullHttpRequest request, boolean stale) {
        Continuation c = next(rt, rc, targetIndex, a, e, request, stale);
        if (c == null) return null;
        a.abort(AttemptOutcome.failure(e.code()).afterCommit());
        rc.upstream = rc.route.upstreams().get(c.plan.targetIndex()).upstream();
        events.retry(rc, "resume");
        return c;
    }

    private void planFrom(ExchangeContext rt, int first) {
        List<RouteTarget> targets = route.upstreams();
        for (int i = first; i < targets.size(); i++) { // this upstream, then the route's fallbacks after it
            ResumeSettings.Strategy s = rt.upstream(targets.get(i).upstream()).settings.resumeStrategy();
            plans.add(new Plan(i, s));
            if (s == ResumeSettings.Strategy.PREFILL) plans.add(new Plan(i, ResumeSettings.Strategy.REPLAY));
        }
    }

    private Continuation build(FullHttpRequest request, RequestContext rc, Plan p) {
        if (p.strategy == ResumeSettings.Strategy.REPLAY) return new Continuation(p, Splice.replay(sent), sent, request);
        if (!ContinuationBodies.canPrefill(sent.api())) return null;
        ContinuationBodies.Prefill body = ContinuationBodies.prefill(ByteBufUtil.getBytes(request.content()), sent);
        if (body == null) return null;
        FullHttpRequest r = new DefaultFullHttpRequest(request.protocolVersion(), request.method(), request.uri(),
                Unpooled.wrappedBuffer(body.body()), request.headers().copy(), request.trailingHeaders().copy());
        built.add(r);
        return new Continuation(p, Splice.prefill(sent, body.heldBack()), sent, r);
    }

    /** The exchange ended: the bodies built for prefills are let go. */
    void release() {
        for (FullHttpRequest r : built) r.release();
        built.clear();
    }
}
