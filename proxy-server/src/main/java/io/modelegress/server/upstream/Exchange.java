package io.modelegress.server.upstream;

import io.modelegress.core.config.RouteTarget;
import io.modelegress.core.error.EgressException;
import io.modelegress.core.mcp.McpRequest;
import io.modelegress.core.retry.AttemptOutcome;
import io.modelegress.core.retry.RetryDecision;
import io.modelegress.core.retry.RetryPolicy;
import io.modelegress.server.events.ExchangeEvents;
import io.modelegress.server.events.RequestOutcome;
import io.modelegress.server.http.RequestContext;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.util.concurrent.EventExecutor;
import java.util.concurrent.ThreadLocalRandom;

/**
 * One agent request from routing to the last byte: the request's deadline, the loop over its attempts (each an
 * {@link UpstreamAttempt}; after a failure core's {@link RetryPolicy} says whether the next one goes to the same
 * upstream, the next one of the route, or none), and exactly one way to end ({@link #end}): the answer went out, our
 * own error (a JSON answer before the commit point, an SSE error event after it), or the agent went away. Runs on
 * the downstream channel's event loop; the upstream channels live on the same loop, so nothing needs locking.
 * A hedge races in its {@link HedgeRace}; what the exchange says of its own comes from {@link ExchangeAnswers}.
 */
public final class Exchange implements AttemptListener {
    private final ExchangeContext rt;
    private final ChannelHandlerContext down;
    private final FullHttpRequest request;
    private final RequestContext rc;
    private final boolean keepAlive;
    private final Runnable onDone;
    private final ExchangeTimers timers;
    private final ExchangeEvents events;
    private RetryPolicy policy;
    private int targetIndex;
    private UpstreamAttempt current;
    /** The hedge racing {@link #current} ({@code hedge_after}), from when it starts; null when none started. */
    private HedgeRace hedge;
    private boolean hedgeArmed;
    /** The upstream whose retry budget lent a permit to the attempt scheduled next (given back if it never starts). */
    private UpstreamState retryPermit;
    private final RequestTokens tokens;
    /** Attempts made on the route's upstream at {@link #targetIndex} (the policy's attempts_per_upstream). */
    private int attemptsOnTarget;
    /** The next attempt replays a request a stale pooled connection lost: it takes a fresh connection. */
    private boolean freshNext;
    private boolean finished;
    /** Mid-stream resume, when the route has it on (issue 16); null otherwise. */
    private final StreamResume resume;
    private final boolean streamed;
    /** What the request is on a {@code kind: mcp} route (its retry rules, its event stream), or null elsewhere. */
    private final McpRequest mcp;

    public Exchange(ExchangeContext rt, ChannelHandlerContext down, FullHttpRequest request, RequestContext rc,
                    boolean keepAlive, Runnable onDone) {
        this.rt = rt;
        this.down = down;
        this.request = request;
        this.rc = rc;
        this.keepAlive = keepAlive;
        this.onDone = onDone;
        this.events = rt.events();
        this.timers = new ExchangeTimers(down.executor(), () -> finished);
        // A streamed upload is sent once (issue 18): no resume, no hedge, a fresh connection (never a stale pooled one).
        this.streamed = StreamedUploads.isStreamed(request);
        this.resume = streamed ? null : StreamResume.forRoute(rc.route, events);
        this.tokens = new RequestTokens(request, streamed);
        this.mcp = McpRequests.of(rc.route, request);
    }

    public RequestContext context() { return rc; }

    public EventExecutor downstreamExecutor() { return down.executor(); }

    /** The attempt under way, or null between attempts and after the end (for handler tests). */
    UpstreamAttempt currentAttempt() { return current; }

    public void start() {
        events.requestStart(rc);
        timers.deadline(rc.deadline.remainingNanos(), () -> fail(ExchangeAnswers.deadlineExceeded(rc)));
        if (rc.headersLimit != null) {
            timers.sdkLimit(rc.headersLimit.toNanos(), () -> {
                if (!rc.committed) fail(ExchangeAnswers.sdkLimitReached(rc));
            });
        }
        policy = rt.policy(rc.route);
        ResponsePins.pin(rt, rc, request);
        if (streamed) io.modelegress.server.http.StreamedRequest.of(request).onAgentError(this::fail);
        next();
    }

    /** Starts an attempt on the route's upstream at {@code targetIndex}, or the next one its breaker admits. */
    private void next() {
        if (finished) return;
        int from = targetIndex;
        targetIndex = RouteTargets.acquireFrom(rt, rc, request, targetIndex);
        if (targetIndex != from) attemptsOnTarget = 0;
        if (targetIndex < 0) {
            fail(RouteTargets.unavailable(rt, rc, request));
            return;
        }
        RouteTarget target = rc.route.upstreams().get(targetIndex);
        attemptsOnTarget++;
        rc.upstream = target.upstream();
        boolean carriesRetryPermit = retryPermit != null;
        retryPermit = null;
        current = attempt(target, request, timers, carriesRetryPermit, freshNext || streamed, null);
        freshNext = false;
        current.start(); // after it is current: a refusal reports synchronously
        if (!hedgeArmed && !streamed && !rc.route.hedgeAfter().isZero()) {
            hedgeArmed = true;
            timers.hedge(rc.route.hedgeAfter().toNanos(), this::startHedge);
        }
    }

    /** No first data by {@code hedge_after}: the route's next upstream starts beside the current attempt. */
    private void startHedge() {
        if (finished || current == null || current.committed() || hedge != null) return;
        hedge = HedgeRace.prepare(rt, rc, request, targetIndex + 1, down.executor(), () -> finished,
                (target, t) -> attempt(target, request, t, true, false, null));
        if (hedge != null) hedge.start(); // after it is held: a refusal reports synchronously
    }

    /** Counts and makes one attempt on {@code target} (its own {@code timers}: a hedge races the current one). */
    private UpstreamAttempt attempt(RouteTarget target, FullHttpRequest req, ExchangeTimers t, boolean carriesRetryPermit,
                                   boolean fresh, StreamResume.Continuation continuation) {
        rc.attempts++;
        UpstreamAttempt a = new UpstreamAttempt(this, rt, down, req, rc, target, rt.upstream(target.upstream()), t,
                carriesRetryPermit, tokens, keepAlive, fresh);
        a.resume = resume;
        a.continuation = continuation;
        events.attemptStart(rc, target.upstream(), rc.attempts);
        return a;
    }

    /** One of two racing attempts is out (it failed, or its answer is dropped): the other goes on alone. */
    private boolean dropRacer(UpstreamAttempt a) {
        if (hedge == null || !hedge.isRacing(a, current)) return false;
        if (a == current) current = hedge.racer();
        hedge.dropped();
        return true;
    }

    /**
     * A committed stream broke on a route that resumes: the next continuation attempt starts instead of the end
     * ({@link StreamResume#handOff} decides where and how). False when none can: the exchange ends as before.
     */
    private boolean resumeAfter(UpstreamAttempt a, EgressException e, boolean stale) {
        StreamResume.Continuation c = resume.handOff(rt, rc, targetIndex, a, e, request, stale);
        if (c == null) return false;
        current = attempt(rc.route.upstreams().get(c.plan.targetIndex()), c.request, timers, true, false, c);
        current.start();
        return true;
    }

    @Override
    public void onCommitted(UpstreamAttempt a) {
        rc.upstream = a.upstreamState().settings.name();
        if (hedge == null || !hedge.racing()) return;
        UpstreamAttempt loser = hedge.decided(a, current);
        current = a;
        loser.abort(null); // cancelled: its connection closed, nothing said to its breaker
    }

    @Override
    public boolean retriesInstead(UpstreamAttempt a, AttemptOutcome answer) {
        if (finished) return false;
        if (dropRacer(a)) return true;
        if (a != current) return false;
        if (StreamedUploads.bodySent(request)) return false; // the error answer is relayed: the body cannot be sent again
        if (!decide(a, answer).isRetry()) return false;
        current = null;
        return true;
    }

    @Override
    public void onFailure(UpstreamAttempt a, EgressException e, AttemptOutcome outcome) {
        if (finished) return;
        if (outcome != null && a.continuation == null && dropRacer(a)) return;
        if (a != current) return;
        if (outcome == null || a.continuation != null) {
            if (resume != null && resumeAfter(a, e, outcome != null && outcome.isStaleConnection())) return;
            fail(resume == null ? e : resume.failure(e));
            return;
        }
        current = null;
        EgressException once = StreamedUploads.notReplayable(request, e, rc.upstream); // a streamed body went out
        RetryDecision d = once != null ? null : decide(a, outcome);
        if (d == null) fail(once);
        else if (!d.isRetry()) fail(ResponsePins.explain(ExchangeAnswers.notRetried(e, d.stopReason(), rc.upstream), rc));
    }

    @Override
    public void onComplete(UpstreamAttempt a) {
        if (finished || a != current) return;
        current = null;
        end(RequestOutcome.OK, null);
    }

    /** Asks the policy what follows {@code outcome}, and schedules the next attempt when it says to retry. */
    private RetryDecision decide(UpstreamAttempt a, AttemptOutcome outcome) {
        UpstreamState state = a.upstreamState();
        McpRequest.Retry rule = McpRequests.retryRule(mcp, outcome, a.requestWritten(), request);
        boolean hasNext = rule == McpRequest.Retry.POLICY && RouteTargets.anyAdmittedFrom(rt, rc, request, targetIndex + 1);
        RetryDecision d = rule == McpRequest.Retry.NEVER ? RetryDecision.stop(RetryDecision.StopReason.NOT_RETRYABLE)
                : policy.decide(outcome, rc.attempts, attemptsOnTarget, hasNext, rc.deadline.remainingNanos(),
                state.budget::tryAcquireRetry, ThreadLocalRandom.current()::nextDouble);
        switch (d.action()) {
            case RETRY_SAME:
                events.retry(rc, outcome.metricTag());
                if (outcome.isStaleConnection()) freshNext = true; // a replay: no budget permit was taken
                else retryPermit = state;
                timers.retry(d.delayNanos(), this::next);
                break;
            case NEXT_UPSTREAM:
                events.retry(rc, "fallback");
                targetIndex++;
                attemptsOnTarget = 0;
                timers.retry(d.delayNanos(), this::next);
                break;
            default:
                rc.retryStopped = d.stopReason();
                events.retryStopped(rc, rc.upstream, d.stopReason().tag());
        }
        return d;
    }

    /** Ends the exchange with our own error: the deadline, a failure no attempt can mend, or a committed one. */
    public void fail(EgressException e) { end(RequestOutcome.ERROR, e); }

    /** The agent went away: the attempt is cancelled at once, its connection closed (not pooled). */
    public void cancel() { end(RequestOutcome.CANCELLED, null); }

    /** The agent's socket drained: the attempt may read its upstream again. */
    public void onDownstreamWritable() {
        if (current != null) current.onDownstreamWritable();
    }

    /** The one way an exchange ends: timers off, the attempt (if any) closed, the books and the body let go. */
    private void end(RequestOutcome outcome, EgressException error) {
        if (finished) return;
        finished = true;
        timers.cancelAll();
        if (hedge != null) hedge.end();
        if (retryPermit != null) retryPermit.budget.onRetryEnd(); // the retry it was lent for never started
        UpstreamAttempt a = current;
        current = null;
        ExchangeAnswers.answer(outcome, error, a, down, rc, resume, keepAlive);
        rt.bodies().release(request);
        if (resume != null) resume.release();
        events.requestEnd(rc, outcome, System.nanoTime());
        onDone.run();
    }
}
