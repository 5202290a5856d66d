package io.modelegress.server.events;

import io.modelegress.server.http.RequestContext;

/**
 * One method per step of an agent request's life, in the order they happen (OkHttp's {@code EventListener} is the
 * model). Metrics and the access log are its implementations; nothing else records what happened. Every call is made
 * on the request's event loop and must not block. Default methods do nothing, so an implementation says only what
 * it cares about.
 */
public interface ExchangeEvents {
    /** The request was routed and its deadline set. */
    default void requestStart(RequestContext rc) {}

    /** The upstream's limiter let the attempt start after {@code queuedNanos} in its queue (not called when it started at once). */
    default void admitted(RequestContext rc, String upstream, long queuedNanos) {}

    default void attemptStart(RequestContext rc, String upstream, int attempt) {}

    default void connectStart(RequestContext rc, String upstream) {}

    /** A connection is ready (pooled or new) after {@code nanos}. */
    default void connectEnd(RequestContext rc, String upstream, long nanos) {}

    /** The upstream's response head arrived (interim 1xx answers excepted). */
    default void responseHeaders(RequestContext rc, String upstream, int status) {}

    /** The first byte of the answer went to the agent: the commit point. */
    default void firstByte(RequestContext rc, String upstream) {}

    /** An attempt ended: {@code result} is {@code ok} or the tag of what it failed with. */
    default void attemptEnd(RequestContext rc, String upstream, String result) {}

    /** Another attempt will be made, for {@code reason} ({@code fallback} when it goes to the next upstream). */
    default void retry(RequestContext rc, String reason) {}

    /**
     * A hedge ended: {@code hedge_won} or {@code primary_won} (the loser was cancelled at once), {@code failed} (one of
     * the two failed; the other went on alone), or {@code skipped} (no next upstream admitted it, or its budget refused).
     */
    default void hedge(RequestContext rc, String outcome) {}

    /** A retryable failure that was not retried, and why (budget, deadline, attempts). */
    default void retryStopped(RequestContext rc, String upstream, String reason) {}

    /**
     * A committed stream's break was handled by resume ({@code routes[].resume}): a continuation with {@code strategy}
     * ({@code prefill}, {@code replay}; {@code none} when not tried) ended with {@code outcome}.
     */
    default void resume(RequestContext rc, String strategy, String outcome) {}

    /** The request ended; {@code rc} holds its status, error, attempts and timings. */
    default void requestEnd(RequestContext rc, RequestOutcome outcome, long nowNanos) {}

    /** Both, in order. */
    static ExchangeEvents of(ExchangeEvents first, ExchangeEvents second) {
        return new ExchangeEvents() {
            @Override public void requestStart(RequestContext rc) { first.requestStart(rc); second.requestStart(rc); }
            @Override public void admitted(RequestContext rc, String u, long q) { first.admitted(rc, u, q); second.admitted(rc, u, q); }
            @Override public void attemptStart(RequestContext rc, String u, int n) { first.attemptStart(rc, u, n); second.attemptStart(rc, u, n); }
            @Override public void connectStart(RequestContext rc, String u) { first.connectStart(rc, u); second.connectStart(rc, u); }
            @Override public void connectEnd(RequestContext rc, String u, long n) { first.connectEnd(rc, u, n); second.connectEnd(rc, u, n); }
            @Override public void responseHeaders(RequestContext rc, String u, int s) { first.responseHeaders(rc, u, s); second.responseHeaders(rc, u, s); }
            @Override public void firstByte(RequestContext rc, String u) { first.firstByte(rc, u); second.firstByte(rc, u); }
            @Override public void attemptEnd(RequestContext rc, String u, String r) { first.attemptEnd(rc, u, r); second.attemptEnd(rc, u, r); }
            @Override public void retry(RequestContext rc, String r) { first.retry(rc, r); second.retry(rc, r); }
            @Override public void hedge(RequestContext rc, String o) { first.hedge(rc, o); second.hedge(rc, o); }
            @Override public void retryStopped(RequestContext rc, String u, String r) { first.retryStopped(rc, u, r); second.retryStopped(rc, u, r); }
            @Override public void resume(RequestContext rc, String s, String o) { first.resume(rc, s, o); second.resume(rc, s, o); }
            @Override public void requestEnd(RequestContext rc, RequestOutcome o, long now) { first.requestEnd(rc, o, now); second.requestEnd(rc, o, now); }
        };
    }
}
