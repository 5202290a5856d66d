package io.modelegress.server.downstream;

import io.modelegress.server.http.ErrorResponses;
import io.modelegress.server.http.IdleTimer;
import io.modelegress.core.config.RouteSettings;
import io.modelegress.core.config.ServerSettings;
import io.modelegress.core.error.ErrorCode;
import io.modelegress.core.route.Router;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.util.ByteProcessor;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * Protects the agent side: assigns the request id, answers malformed or oversized request heads (400/414/431),
 * closes connections idle with no request in flight, and closes requests that trickle in (slowloris) after
 * {@code server.request_read_timeout}, counted from the first byte of the request: its {@link #firstByteWatch()}
 * sits before the HTTP codec, which holds back a head until it is complete.
 */
public final class DownstreamGuard extends ChannelDuplexHandler {
    private final ServerSettings settings;
    private final Router router;
    private ScheduledFuture<?> readTimer;
    /** Bytes of a request arrived and its last content has not: what the read timer reports if it fires. */
    private boolean reading;
    private long readStartedNanos;
    private String readingUri;
    private String readingId;
    private int inFlight;
    private boolean broken;
    /** The loop's clock (a mock one under {@code EmbeddedChannel}), for the read timer. */
    private io.netty.util.concurrent.Ticker ticker = io.netty.util.concurrent.Ticker.systemTicker();
    /**
     * {@code server.idle_timeout}: idle from the connection's opening, the end of its last response, or its last
     * bytes read with nothing in flight; never while a request is in flight. Made when the guard is added.
     */
    private IdleTimer idle;
    /** Bytes still queued for the agent at the last idle check: a change since is progress, not idleness. */
    private long pendingAtLastCheck;

    public DownstreamGuard(ServerSettings settings, Router router) {
        this.settings = settings;
        this.router = router;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (broken) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (msg instanceof HttpRequest) {
            HttpRequest req = (HttpRequest) msg;
            if (req.decoderResult().isFailure()) {
                ReferenceCountUtil.release(msg);
                reject(ctx, req, req.decoderResult().cause());
                return;
            }
            inFlight++;
            if (!req.headers().contains(ErrorResponses.X_REQUEST_ID)) req.headers().set(ErrorResponses.X_REQUEST_ID, newId());
            if (!reading) {
                // Without the watch (or a head pipelined behind a response): count from the head.
                reading = true;
                readStartedNanos = ticker.nanoTime();
            }
            readingUri = req.uri();
            readingId = req.headers().get(ErrorResponses.X_REQUEST_ID);
        }
        if (msg instanceof LastHttpContent) {
            reading = false;
            cancelReadTimer();
        }
        if (msg instanceof HttpContent && ((HttpContent) msg).decoderResult().isFailure()) {
            Throwable cause = ((HttpContent) msg).decoderResult().cause();
            ReferenceCountUtil.release(msg);
            reject(ctx, null, cause);
            return;
        }
        ctx.fireChannelRead(msg);
    }

    /**
     * The request-read timer is armed only when a read ends with a request still incomplete: most requests arrive
     * whole in one read and never touch the event loop's timer queue. The limit counts from the request's first
     * byte, noted by the watch before the codec, so a head trickled in byte by byte is bounded too.
     */
    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        long limit = settings.requestReadTimeout().toNanos();
        if (reading && readTimer == null && limit > 0) {
            long left = limit - (ticker.nanoTime() - readStartedNanos);
            readTimer = ctx.executor().schedule(() -> tooSlow(ctx), Math.max(0, left), TimeUnit.NANOSECONDS);
        }
        ctx.fireChannelReadComplete();
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        // A response's end (a FullHttpResponse is a LastHttpContent too), not an interim one: a 100 Continue leaves
        // its request in flight, and the body and the answer still to come must not be timed as idleness.
        if (msg instanceof LastHttpContent && !interim(msg) && inFlight > 0 && --inFlight == 0) idle.idleFrom(idle.now());
        ctx.write(msg, promise);
    }

    private static boolean interim(Object msg) {
        return msg instanceof HttpResponse && ((HttpResponse) msg).status().codeClass() == HttpStatusClass.INFORMATIONAL;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        ticker = ctx.executor().ticker();
        idle = new IdleTimer(ctx.executor(), settings.idleTimeout().toNanos(), () -> stillIdle(ctx), ctx::close);
        if (ctx.channel().isActive()) idle.idleFrom(idle.now());
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        idle.idleFrom(idle.now()); // one check however often: a pending one only moves its start
        ctx.fireChannelActive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        // A WebSocket takes the connection over (SocketBridge): its relay has an idle limit of its own.
        cancelReadTimer();
        idle.cancel();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        cancelReadTimer();
        idle.cancel();
        ctx.fireChannelInactive();
    }

    /** When an idle check fires: a request in flight stops the checks (its response's end starts them again). */
    private boolean stillIdle(ChannelHandlerContext ctx) {
        if (inFlight > 0 || !ctx.channel().isActive()) return false;
        // The count starts when the last response is handed to the socket, not when its bytes have left: an agent
        // still draining the tail (bytes queued here, beyond the kernel's buffer) is not idle while they move.
        long pending = pendingWriteBytes(ctx);
        if (pending > 0 && pending != pendingAtLastCheck) idle.touch(idle.now());
        pendingAtLastCheck = pending;
        return true;
    }

    private static long pendingWriteBytes(ChannelHandlerContext ctx) {
        io.netty.channel.ChannelOutboundBuffer out = ctx.channel().unsafe().outboundBuffer();
        return out == null ? 0 : out.totalPendingWriteBytes();
    }

    /**
     * The request's body is streamed to the upstream (an upload): from here its pace is the upstream's, not the
     * agent's alone, so {@code server.request_read_timeout} stops and the request deadline bounds the rest.
     */
    void bodyStreamed() {
        reading = false;
        cancelReadTimer();
    }

    /** The handler to add before the HTTP codec: notes when the first byte of a request arrives. */
    public ChannelHandler firstByteWatch() {
        return new FirstByteWatch();
    }

    /**
     * One field check per read (and a look at the first byte between requests). Bytes that arrive while a response
     * is still going out (a pipelined request) start no clock: the next read after that response does, or the decoded
     * head. CR/LF alone start none either: the codec skips them, and a stray CRLF after a body must not earn an idle
     * keep-alive connection an unsolicited 408.
     */
    private final class FirstByteWatch extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (inFlight == 0 && !broken) {
                long now = ticker.nanoTime();
                idle.touch(now); // any bytes at all between requests, a stray CRLF too, are not idleness
                if (!reading && msg instanceof ByteBuf && ((ByteBuf) msg).forEachByte(ByteProcessor.FIND_NON_CRLF) >= 0) {
                    reading = true;
                    readStartedNanos = now;
                    readingUri = null;
                    readingId = null;
                }
            }
            ctx.fireChannelRead(msg);
        }
    }

    /** Read at fire time: the head may have arrived after the timer was armed at the first byte (or never). */
    private void tooSlow(ChannelHandlerContext ctx) {
        broken = true;
        String what = readingUri == null ? "the request headers were" : "the request was";
        respondAndClose(ctx, readingUri, ErrorCode.REQUEST_READ_TIMEOUT, what + " not received within "
                + io.modelegress.core.time.Durations.format(settings.requestReadTimeout())
                + " of the first byte (server.request_read_timeout)", readingId);
    }

    private void reject(ChannelHandlerContext ctx, HttpRequest req, Throwable cause) {
        broken = true;
        cancelReadTimer();
        String uri = req == null ? "/" : req.uri();
        if (cause instanceof TooLongHttpLineException) {
            respondAndClose(ctx, "/", ErrorCode.URI_TOO_LONG, "the request line is too long", null);
        } else if (cause instanceof TooLongHttpHeaderException || cause instanceof TooLongFrameException) {
            respondAndClose(ctx, uri, ErrorCode.HEADERS_TOO_LARGE, "the request headers are larger than "
                    + settings.maxHeaderSize() + " bytes (server.max_header_size)", null);
        } else {
            respondAndClose(ctx, uri, ErrorCode.BAD_REQUEST, "malformed HTTP request: " + cause.getMessage(), null);
        }
    }

    private void respondAndClose(ChannelHandlerContext ctx, String uri, ErrorCode code, String message, String id) {
        RouteSettings route = uri != null && uri.startsWith("/") ? router.route(uri, () -> null) : null;
        RouteSettings.Dialect d = route == null ? RouteSettings.Dialect.OPENAI : route.dialect();
        FullHttpResponse r = ErrorResponses.response(ctx.alloc(), d, code, message, id, false);
        ctx.writeAndFlush(r).addListener(ChannelFutureListener.CLOSE);
    }

    private void cancelReadTimer() {
        if (readTimer != null) {
            readTimer.cancel(false);
            readTimer = null;
        }
    }

    private static final char[] HEX = "0123456789abcdef".toCharArray();

    /** 128 random bits as 32 hex digits (String.format was a tenth of all allocation per request). */
    static String newId() {
        ThreadLocalRandom r = ThreadLocalRandom.current();
        char[] c = new char[32];
        long hi = r.nextLong();
        long lo = r.nextLong();
        for (int i = 0; i < 16; i++) {
            c[15 - i] = HEX[(int) (hi >>> (i * 4)) & 0xf];
            c[31 - i] = HEX[(int) (lo >>> (i * 4)) & 0xf];
        }
        return new String(c);
    }
}
