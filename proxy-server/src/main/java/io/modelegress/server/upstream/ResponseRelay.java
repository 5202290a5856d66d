package io.modelegress.server.upstream;

import io.modelegress.core.error.EgressException;
import io.modelegress.core.error.ErrorCode;
import io.modelegress.core.ratelimit.RateLimitHeaders;
import io.modelegress.core.ratelimit.RateLimitSnapshot;
import io.modelegress.core.ratelimit.StreamUsage;
import io.modelegress.core.ratelimit.TokenCount;
import io.modelegress.core.ratelimit.UsageParser;
import io.modelegress.core.retry.SseErrorEvent;
import io.modelegress.core.sse.SseScanner;
import io.modelegress.core.sse.StreamCompletion;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import java.nio.charset.StandardCharsets;
import io.modelegress.core.time.Ticker;
import io.modelegress.core.timeout.Deadline;
import io.modelegress.server.http.ErrorResponses;
import io.modelegress.server.http.HopByHop;
import io.modelegress.server.http.RequestContext;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Locale;
import java.util.Map;

/**
 * Relays one upstream response to the agent as it arrives: the buffers that came in are the buffers that go out.
 * A non-streaming response is committed at its headers; an SSE stream is held until its first data-carrying event
 * (the commit point), so a failure before the first token can still be answered cleanly. Enforces first_token and
 * stream_idle, and stops reading the upstream while the agent's socket is not writable (back-pressure).
 */
final class ResponseRelay {
    private final Exchange ex;
    private final UpstreamConnector.Target target;
    private final RequestContext rc;
    private boolean sawHead;
    private boolean committed;
    private boolean sse;
    private boolean upstreamKeepAlive;
    private HttpResponse heldHead;
    private final ArrayDeque<HttpContent> held = new ArrayDeque<>(4);
    private SseScanner scanner;
    /** Upstream reads are paused because the agent's socket is full (stream_idle does not run meanwhile). */
    private boolean pausedByAgent;
    /** Between an interim (1xx) response head and its empty last content. */
    private boolean skippingInterim;
    /** The upstream connection this attempt reads (its pool watch hands each message to {@link #read}). */
    private final Channel upstream;
    /** An error answer held whole (up to {@link #MAX_HELD_ERROR} bytes) so the retry policy can read its body. */
    private boolean holdingError;
    private long heldBytes;
    private HttpResponse upstreamHead;
    static final int MAX_HELD_ERROR = 64 * 1024;
    private static final int MAX_USAGE_BODY = 1 << 20;
    /** Only when the upstream has tokens_per_minute: what the response says it used, to correct the estimate. */
    private StreamUsage streamUsage;
    private java.io.ByteArrayOutputStream usageBody;

    ResponseRelay(Exchange ex, UpstreamConnector.Target target, Channel upstream) {
        this.ex = ex;
        this.target = target;
        this.rc = ex.context();
        this.upstream = upstream;
    }

    boolean sawHead() { return sawHead; }

    boolean committed() { return committed; }

    boolean isSse() { return sse; }

    /** One decoded message of the upstream's response. */
    void read(Object msg) {
        if (ex.isFinishedOrNot(this)) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (!(msg instanceof HttpObject)) {
            // Raw bytes: the decoder switched protocols, so the response framing is lost.
            ReferenceCountUtil.release(msg);
            ex.onProtocolError("sent bytes that are not HTTP/1.1 after switching protocols");
            return;
        }
        if (skippingInterim) {
            // The empty body of an interim (1xx) response: the final response comes next on the same connection.
            if (msg instanceof LastHttpContent) skippingInterim = false;
            ReferenceCountUtil.release(msg);
            return;
        }
        if (msg instanceof HttpResponse && !(msg instanceof HttpContent) && isInterim((HttpResponse) msg)) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (msg instanceof HttpResponse) {
            onHead((HttpResponse) msg);
            if (ex.isFinishedOrNot(this)) {
                ReferenceCountUtil.release(msg);
                return;
            }
        }
        if (msg instanceof HttpContent) onContent((HttpContent) msg);
    }

    /**
     * A 1xx answer is not the response: 100 Continue, 102 Processing and 103 Early Hints are consumed (the agent gets
     * the final response only, and the response-headers timer keeps running); an unsolicited 101 means the framing
     * that follows is not HTTP/1.1, so the attempt fails and the connection is closed, never pooled.
     */
    private boolean isInterim(HttpResponse resp) {
        if (resp.decoderResult().isFailure() || resp.status().codeClass() != HttpStatusClass.INFORMATIONAL) return false;
        if (resp.status().code() == 101) {
            ex.onProtocolError("answered 101 Switching Protocols to a request that asked for no upgrade");
        } else {
            skippingInterim = true;
        }
        return true;
    }

    private void onHead(HttpResponse resp) {
        if (resp.decoderResult().isFailure()) {
            ex.onProtocolError("sent a malformed response head (" + UpstreamFailures.simple(resp.decoderResult().cause()) + ")");
            return;
        }
        if (target.absoluteForm() && resp.status().code() == 407) {
            // Through an HTTP proxy in absolute-form, a 407 is the proxy's answer, not the upstream's.
            ex.onAttemptFailure(UpstreamFailures.proxyAuthRequired(target.proxy(), null));
            return;
        }
        ex.cancelPhase();
        sawHead = true;
        rc.firstByteNanos = System.nanoTime();
        ex.runtime().metrics().timeToFirstByte(rc.routeName(), rc.upstream, rc.firstByteNanos - rc.startNanos);
        rc.status = resp.status().code();
        upstreamKeepAlive = HttpUtil.isKeepAlive(resp);
        boolean lengthKnown = HttpUtil.isContentLengthSet(resp);
        // The upstream's head, rewritten in place and sent on (no copy of its headers): hop-by-hop headers go,
        // ours come in. What the retry policy and the limiter read later (retry-after, quota headers) stays.
        HttpResponse head = resp;
        head.setProtocolVersion(HttpVersion.HTTP_1_1);
        HttpHeaders hh = head.headers();
        HopByHop.strip(hh);
        // Only the sidecar speaks x-egress-*: an upstream's own would pass for ours (a spoofed x-egress-error).
        HopByHop.removePrefixed(hh, ErrorResponses.X_EGRESS_PREFIX);
        // The provider's request id stays (SDKs expose it; support tickets quote it); ours goes beside it.
        rc.upstreamRequestId = hh.get(ErrorResponses.X_REQUEST_ID);
        if (rc.upstreamRequestId == null) {
            rc.upstreamRequestId = hh.get(ErrorResponses.REQUEST_ID);
            hh.set(ErrorResponses.X_REQUEST_ID, rc.requestId);
        }
        hh.set(ErrorResponses.X_EGRESS_REQUEST_ID, rc.requestId).setInt(ErrorResponses.X_EGRESS_ATTEMPTS, rc.attempts);
        int code = rc.status;
        boolean bodiless = code == 204 || code == 304 || code < 200 || HttpMethod.HEAD.name().equals(rc.method);
        if (!lengthKnown && !bodiless) HttpUtil.setTransferEncodingChunked(head, true);
        if (!ex.keepAlive()) head.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        String type = resp.headers().get(HttpHeaderNames.CONTENT_TYPE);
        // A compressed event stream (an upstream that ignored our accept-encoding: identity) cannot be scanned or
        // given an error event: it is relayed as a plain body, committed at its head, never held.
        String encoding = resp.headers().get(HttpHeaderNames.CONTENT_ENCODING);
        sse = type != null && type.regionMatches(true, 0, "text/event-stream", 0, 17)
                && (encoding == null || encoding.equalsIgnoreCase("identity"));
        rc.streaming = sse;
        upstreamHead = resp;
        UpstreamState state = ex.currentState();
        RateLimitSnapshot signals = rateLimitSignals(resp.headers(), ex.runtime().ticker());
        if (code == 429) state.limiter.onRateLimited(signals);
        else state.limiter.observe(signals);
        if (state.countsTokens) {
            if (sse) streamUsage = new StreamUsage();
            else usageBody = new java.io.ByteArrayOutputStream();
        }
        if (code >= 400 && !bodiless) {
            // Not committed yet: the policy may retry or fall back once it has read the provider's error code.
            holdingError = true;
            heldHead = head;
            armStreamIdle();
        } else if (sse) {
            heldHead = head;
            scanner = new SseScanner();
            if (streamUsage != null) scanner.onEvent(streamUsage::onData);
            if (!target.timeouts().firstToken().isZero()) {
                Deadline.Limit l = rc.deadline.limitFor(target.timeouts().firstToken(), "timeouts.first_token");
                ex.schedulePhase(l, () -> {
                    EgressException e = ex.timeout(ErrorCode.FIRST_TOKEN_TIMEOUT, l, "upstream "
                            + target.upstream().authority() + " sent headers but no data");
                    if (committed) ex.fail(e); // committed early by max_uncommitted_bytes: the stream's error event
                    else ex.onAttemptFailure(e);
                });
            } else {
                armStreamIdle();
            }
        } else {
            committed = true;
            rc.committed = true;
            ex.downstream().write(head);
            armStreamIdle();
        }
    }

    /**
     * The quota and retry-after headers, if any. One pass over the headers picks out the candidates (most upstreams
     * send none, OpenAI six), so the parser's ~30 name lookups run on a small map instead of the response headers.
     */
    private static RateLimitSnapshot rateLimitSignals(HttpHeaders headers, Ticker ticker) {
        Map<String, String> found = null;
        for (Iterator<Map.Entry<CharSequence, CharSequence>> it = headers.iteratorCharSequence(); it.hasNext(); ) {
            Map.Entry<CharSequence, CharSequence> h = it.next();
            CharSequence name = h.getKey();
            if (startsWith(name, "x-ratelimit-") || startsWith(name, "anthropic-ratelimit-") || startsWith(name, "retry-after")) {
                if (found == null) found = new HashMap<>();
                found.putIfAbsent(name.toString().toLowerCase(Locale.ROOT), h.getValue().toString());
            }
        }
        if (found == null) return RateLimitSnapshot.EMPTY;
        return RateLimitHeaders.parse(found::get, ticker);
    }

    private static boolean startsWith(CharSequence name, String prefix) {
        return name.length() >= prefix.length() && AsciiString.regionMatches(name, true, 0, prefix, 0, prefix.length());
    }

    private void onContent(HttpContent c) {
        boolean last = c instanceof LastHttpContent;
        if (c.decoderResult().isFailure()) {
            // An invalid chunk size or a body the decoder cannot frame: what was relayed so far is flushed first, so
            // the agent sees the head (or the stream's events) and then the error, never a silent close.
            String why = UpstreamFailures.simple(c.decoderResult().cause());
            c.release();
            ex.onProtocolError("sent a malformed response body (" + why + ")");
            return;
        }
        rc.bytesOut += c.content().readableBytes();
        if (usageBody != null && usageBody.size() < MAX_USAGE_BODY) {
            byte[] copy = new byte[c.content().readableBytes()];
            c.content().getBytes(c.content().readerIndex(), copy);
            usageBody.writeBytes(copy);
        }
        boolean progress = true;
        if (sse) {
            int[] completed = {0};
            c.content().forEachByte(b -> {
                if (scanner.accept(b)) completed[0]++;
                return true;
            });
            progress = completed[0] > 0;
        }
        ChannelHandlerContext down = ex.downstream();
        if (last && sse && !holdingError) {
            c = endOfStream(c);
            if (c == null) return;
        }
        if (holdingError) {
            held.add(c);
            heldBytes += c.content().readableBytes();
            if (!last && heldBytes <= MAX_HELD_ERROR) return;
            holdingError = false;
            if (last && ex.retryUpstreamAnswer(rc.status, upstreamHead.headers(), heldBody())) {
                boolean reusable = upstreamKeepAlive && upstream.isActive();
                discardHeld();
                ex.releaseForRetry(reusable);
                return;
            }
        } else if (!committed) {
            held.add(c);
            heldBytes += c.content().readableBytes();
            // An SSE stream before its first data-carrying event is held, up to server.max_uncommitted_bytes: past
            // that (a flood of comments, one huge first event) it is committed as it stands and relayed from here.
            if (!progress && !last && heldBytes <= ex.runtime().config().server().maxUncommittedBytes()) return;
            String first = scanner == null ? null : scanner.firstEventData();
            if (first != null && SseErrorEvent.isInBandError(first) && ex.retryInBandError(first)) {
                discardHeld();
                ex.releaseForRetry(false);
                return;
            }
        }
        if (!committed) {
            committed = true;
            rc.committed = true;
            down.write(heldHead);
            heldHead = null;
            while (!held.isEmpty()) down.write(held.poll());
        } else {
            down.write(c);
        }
        if (last) {
            boolean reusable = upstreamKeepAlive && upstream.isActive();
            down.flush();
            ex.cancelPhase();
            ex.succeed(reusable);
            return;
        }
        down.flush();
        if (!down.channel().isWritable()) {
            // Back-pressure: the agent reads slower than the upstream writes. While the sidecar itself holds the
            // upstream's reads, silence is ours, not the upstream's: stream_idle is off until reads resume.
            upstream.config().setAutoRead(false);
            pausedByAgent = true;
            ex.cancelPhase();
        } else if (progress) {
            armStreamIdle();
        }
    }

    /** The agent's socket drained: read the upstream again, and from then on time its silence again. */
    void onDownstreamWritable() {
        if (!ex.downstream().channel().isWritable()) return;
        upstream.config().setAutoRead(true);
        if (pausedByAgent) {
            pausedByAgent = false;
            armStreamIdle();
        }
    }

    /**
     * The last content of an SSE stream: a model stream must have been finished by its upstream (a finish reason or
     * an end marker), whatever the transport said; one finished without its marker gets the marker the SDKs expect.
     * Returns what to relay as the last content, or null when the attempt ended here as a cut stream.
     */
    private HttpContent endOfStream(HttpContent c) {
        StreamCompletion sc = scanner.completion();
        boolean cut = sc.api() == StreamCompletion.Api.UNKNOWN ? !scanner.sawEnd() && !upstream.isActive() : !sc.complete();
        if (cut) {
            c.release();
            EgressException e = new EgressException(ErrorCode.UPSTREAM_RESET, "upstream \"" + rc.upstream + "\" ended the "
                    + "stream before the answer was finished (" + (sc.api() == StreamCompletion.Api.UNKNOWN
                    ? "closed before its end marker" : "no finish reason and no end marker") + ")");
            if (committed) {
                ex.fail(e);
            } else {
                discardHeld();
                ex.onAttemptFailure(e);
            }
            return null;
        }
        String marker = sc.missingEndMarker();
        if (marker == null) return c;
        ByteBuf tail = Unpooled.copiedBuffer(marker, StandardCharsets.US_ASCII);
        rc.bytesOut += tail.readableBytes();
        return new DefaultLastHttpContent(Unpooled.wrappedBuffer(c.content(), tail));
    }

    /** The stream's shape so far, for an error event in the same API's format. */
    StreamCompletion streamShape() { return scanner == null ? new StreamCompletion() : scanner.completion(); }

    private void armStreamIdle() {
        Deadline.Limit l = rc.deadline.limitFor(target.timeouts().streamIdle(), "timeouts.stream_idle");
        ex.schedulePhase(l, () -> {
            EgressException e = ex.timeout(ErrorCode.STREAM_IDLE_TIMEOUT, l, "upstream " + target.upstream().authority()
                    + " sent nothing");
            if (committed) ex.fail(e);
            else ex.onAttemptFailure(e);
        });
    }

    /** The usage the response reported, or null (the estimate then stands). */
    TokenCount usage() {
        if (streamUsage != null) return streamUsage.usage();
        if (usageBody != null && usageBody.size() > 0) return UsageParser.fromBody(usageBody.toByteArray());
        return null;
    }

    private byte[] heldBody() {
        byte[] out = new byte[(int) heldBytes];
        int at = 0;
        for (HttpContent c : held) {
            int n = c.content().readableBytes();
            c.content().getBytes(c.content().readerIndex(), out, at, n);
            at += n;
        }
        return out;
    }

    void discardHeld() {
        while (!held.isEmpty()) held.poll().release();
        heldHead = null;
    }

    /** The upstream connection closed. */
    void inactive() {
        if (!ex.isFinishedOrNot(this)) ex.onUpstreamBroken(null);
    }

    void exception(ChannelHandlerContext ctx, Throwable cause) {
        if (!ex.isFinishedOrNot(this)) ex.onUpstreamBroken(cause);
        else ctx.close();
    }
}
