package io.modelegress.server.upstream;

import io.modelegress.core.error.EgressException;
import io.modelegress.core.error.ErrorCode;
import io.modelegress.core.resume.Splice;
import io.modelegress.core.sse.SseScanner;
import io.modelegress.core.sse.StreamCompletion;
import io.modelegress.core.timeout.Deadline;
import io.modelegress.server.events.ExchangeEvents;
import io.modelegress.server.http.RequestContext;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;

/**
 * Reads the response of a continuation attempt (issue 16): its head is not the agent's (that went out with the
 * original), so anything but a 2xx event stream is a rejection; its events go through the {@link Splice} and only
 * what the splice emits reaches the agent, as new buffers (the upstream's are released here). Stream idle is timed as
 * for any stream; the agent's back-pressure pauses the upstream through the same {@link ResponseRelay}.
 */
final class ContinuationReader {
    private final AttemptControl attempt;
    private final StreamResume.Continuation cont;
    private final RequestContext rc;
    private final UpstreamConnector.Target target;
    private final Channel upstream;
    private final ResponseRelay relay;
    private final ExchangeEvents events;
    private final SseScanner scanner = new SseScanner();
    private final StringBuilder out = new StringBuilder();
    private boolean upstreamKeepAlive;
    private boolean ended;
    private String failed;

    ContinuationReader(AttemptControl attempt, StreamResume.Continuation cont, RequestContext rc, UpstreamConnector.Target target,
                       Channel upstream, ResponseRelay relay, ExchangeEvents events) {
        this.attempt = attempt;
        this.cont = cont;
        this.rc = rc;
        this.target = target;
        this.upstream = upstream;
        this.relay = relay;
        this.events = events;
        scanner.onEvent(this::onEvent);
    }

    void read(Object msg) {
        try {
            if (msg instanceof HttpResponse && !onHead((HttpResponse) msg)) return;
            if (msg instanceof HttpContent) onContent((HttpContent) msg);
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    private boolean onHead(HttpResponse resp) {
        if (resp.decoderResult().isFailure()) {
            attempt.protocolError("sent a malformed response head to a continuation");
            return false;
        }
        int code = resp.status().code();
        if (resp.status().codeClass() == HttpStatusClass.INFORMATIONAL) return false;
        attempt.onHead(code);
        String type = resp.headers().get(HttpHeaderNames.CONTENT_TYPE, "");
        if (code / 100 != 2 || !type.startsWith("text/event-stream")) {
            cont.rejectedStatus = code;
            attempt.fail(new EgressException(ErrorCode.UPSTREAM_RESET, "upstream \"" + rc.upstream + "\" rejected the "
                    + cont.strategyWord() + " continuation (" + code + ")"));
            return false;
        }
        cont.streamed = true;
        upstreamKeepAlive = HttpUtil.isKeepAlive(resp);
        armStreamIdle();
        return true;
    }

    private void onContent(HttpContent c) {
        if (c.decoderResult().isFailure()) {
            attempt.protocolError("sent a malformed response body to a continuation");
            return;
        }
        ByteBuf b = c.content();
        b.forEachByte(x -> {
            scanner.accept(x);
            return failed == null;
        });
        if (failed != null) {
            flushOut();
            attempt.fail(new EgressException(ErrorCode.UPSTREAM_RESET, "the continuation on upstream \"" + rc.upstream
                    + "\" could not be spliced: " + failed));
            return;
        }
        boolean last = c instanceof LastHttpContent;
        if (last) {
            StreamCompletion sc = scanner.completion();
            if (!sc.complete() || sc.api() == StreamCompletion.Api.UNKNOWN) {
                flushOut();
                attempt.fail(new EgressException(ErrorCode.UPSTREAM_RESET, "upstream \"" + rc.upstream
                        + "\" ended the continuation before the answer was finished"));
                return;
            }
            if (!ended && sc.missingEndMarker() != null) emit(sc.missingEndMarker());
        }
        boolean full = flushOut();
        if (last) {
            relay.write(LastHttpContent.EMPTY_LAST_CONTENT);
            relay.flush();
            cont.completed = true;
            rc.resume = cont.strategyWord() + ":ok";
            events.resume(rc, cont.strategyWord(), "ok");
            attempt.complete(upstreamKeepAlive && upstream.isActive());
            return;
        }
        if (full) attempt.cancelPhase();
        else armStreamIdle();
    }

    private void onEvent(String data) {
        if (failed != null) return;
        Splice.Step step = cont.splice.onEvent(data);
        if (step instanceof Splice.Fail f) {
            failed = f.why();
            if (!cont.forwarded) cont.diverged = f.why();
            return;
        }
        if (step instanceof Splice.Emit e) {
            if (!cont.forwarded) {
                out.append(Splice.marker(cont.strategyWord(), rc.attempts));
                cont.forwarded = true;
            }
            cont.sent.onEvent(e.data()); // a later continuation picks up from here
            emit(e.sse());
            if (e.data().equals("[DONE]") || e.sse().startsWith("event: message_stop")
                    || e.sse().startsWith("event: response.completed")) ended = true;
        }
    }

    private void emit(String sse) { out.append(sse); }

    /** Writes what the splice emitted; true when the agent's socket is full. */
    private boolean flushOut() {
        if (out.length() == 0) return false;
        ByteBuf buf = Unpooled.copiedBuffer(out, StandardCharsets.UTF_8);
        out.setLength(0);
        rc.bytesOut += buf.readableBytes();
        relay.write(new DefaultHttpContent(buf));
        return relay.flush();
    }

    private void armStreamIdle() {
        Deadline.Limit l = rc.deadline.limitFor(target.timeouts().streamIdle(), "timeouts.stream_idle");
        attempt.phase(l, () -> attempt.fail(rc.deadline.exceeded(ErrorCode.STREAM_IDLE_TIMEOUT, l,
                "upstream " + target.upstream().authority() + " sent nothing to a continuation")));
    }
}
