package io.modelegress.server.upstream;

import io.modelegress.core.error.EgressException;
import io.modelegress.core.error.ErrorCode;
import io.modelegress.core.retry.AttemptOutcome;
import io.modelegress.core.retry.RetryDecision;
import io.modelegress.core.sse.StreamCompletion;
import io.modelegress.core.time.Durations;
import io.modelegress.server.events.RequestOutcome;
import io.modelegress.server.http.ErrorResponses;
import io.modelegress.server.http.RequestContext;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;

/**
 * What an {@link Exchange} says of its own: the errors of its own limits (the request deadline, the SDK's limit) and
 * of a failure the policy did not retry, and how it answers as it ends — our error (a JSON answer before the commit
 * point, an SSE error event after it), 499 for an agent gone, a close after an answer that said "Connection: close".
 */
final class ExchangeAnswers {
    private ExchangeAnswers() {}

    /** {@code timeouts.request} (or the agent's own deadline) is spent. */
    static EgressException deadlineExceeded(RequestContext rc) {
        return new EgressException(ErrorCode.REQUEST_DEADLINE_EXCEEDED, "the request did not complete within "
                + Durations.format(rc.deadline.budget()) + " (" + rc.deadline.source() + "); last upstream " + rc.upstream);
    }

    /** The agent's SDK announced it gives up on headers by now ({@code X-Stainless-Timeout}). */
    static EgressException sdkLimitReached(RequestContext rc) {
        return new EgressException(ErrorCode.REQUEST_DEADLINE_EXCEEDED, "no response from upstream "
                + rc.upstream + " before " + rc.headersLimitSource + " would give up");
    }

    /** A retryable failure the policy stopped: says why no retry came, when it was the budget or the deadline. */
    static EgressException notRetried(EgressException e, RetryDecision.StopReason why, String upstream) {
        if (why == RetryDecision.StopReason.BUDGET_EXHAUSTED) {
            return e.withoutRetry("retry budget of upstream \"" + upstream + "\" spent");
        } else if (why == RetryDecision.StopReason.DEADLINE) {
            return e.withoutRetry("no time left before the request deadline");
        }
        return e;
    }

    /**
     * Answers the agent as the exchange ends with {@code outcome}; {@code a} is the attempt that was current (null
     * if none), aborted here with the error's outcome so its books close.
     */
    static void answer(RequestOutcome outcome, EgressException error, UpstreamAttempt a, ChannelHandlerContext down,
                       RequestContext rc, StreamResume resume, boolean keepAlive) {
        switch (outcome) {
            case ERROR: {
                boolean committed = a != null && a.committed();
                StreamCompletion stream = resume != null && resume.shape() != null ? resume.shape()
                        : a == null ? null : a.streamShape();
                if (a != null) {
                    AttemptOutcome o = AttemptOutcome.failure(error.code());
                    a.abort(committed ? o.afterCommit() : o);
                }
                rc.error = error.code();
                if (!committed) rc.status = error.code().status();
                rc.bytesOut += ErrorResponses.answer(down, rc.dialect(), error, rc.requestId, rc.attempts, keepAlive,
                        committed, stream);
                break;
            }
            case CANCELLED:
                if (a != null) a.abort(null);
                rc.status = 499;
                break;
            default:
                // The agent asked to close (Connection: close, HTTP/1.0) or the sidecar drains: the answer said
                // "Connection: close", so close once it has gone out; a client reading to EOF would wait forever.
                if (!keepAlive) down.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        }
    }
}
