package io.modelegress.server.downstream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.modelegress.core.config.ConfigLoader;
import io.modelegress.core.config.ServerSettings;
import io.modelegress.core.route.Router;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The request-read clock on the hot path (a request that arrives whole must not touch the timer queue), and the idle
 * watch: one timer per connection, acting only with nothing in flight. Time is the embedded loop's, moved by hand.
 */
class DownstreamGuardTest {
    private static final long IDLE_NANOS = TimeUnit.SECONDS.toNanos(10);

    private static EmbeddedChannel channel() throws Exception {
        ServerSettings s = ConfigLoader.parse("server: { request_read_timeout: 300ms, idle_timeout: 10s }\n", "t.yaml", k -> null).server();
        DownstreamGuard guard = new DownstreamGuard(s, new Router(List.of()));
        EmbeddedChannel ch = new EmbeddedChannel(guard.firstByteWatch(), new HttpServerCodec(), guard);
        ch.freezeTime();
        return ch;
    }

    /** The next timer due is the idle watch (10 s off), not a read timer (300 ms). */
    private static void onlyTheIdleWatchIsPending(EmbeddedChannel ch, String why) {
        long next = ch.runScheduledPendingTasks();
        assertTrue(next > TimeUnit.SECONDS.toNanos(1) && next <= IDLE_NANOS, why + ": next timer in " + next + " ns");
    }

    private static void after(EmbeddedChannel ch, long seconds) {
        ch.advanceTimeBy(seconds, TimeUnit.SECONDS);
        ch.runScheduledPendingTasks();
    }

    /** Open 9 s into the 10 s idle timeout, closed 2 s later. */
    private static void closesTenSecondsOn(EmbeddedChannel ch, String from) {
        after(ch, 9);
        assertTrue(ch.isOpen(), "9 s of a 10 s idle timeout, from " + from);
        after(ch, 2);
        assertFalse(ch.isOpen(), "closed once idle for server.idle_timeout, from " + from);
    }

    private static void drainInbound(EmbeddedChannel ch) {
        for (Object m; (m = ch.readInbound()) != null; ) ReferenceCountUtil.release(m);
    }

    private static void respond(EmbeddedChannel ch) {
        ch.writeOutbound(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK));
        for (Object m; (m = ch.readOutbound()) != null; ) ReferenceCountUtil.release(m);
    }

    private static void read(EmbeddedChannel ch, String bytes) {
        ch.writeInbound(Unpooled.copiedBuffer(bytes, StandardCharsets.ISO_8859_1));
    }

    @Test
    void aRequestThatArrivesWholeInOneReadSchedulesNoReadTimer() throws Exception {
        EmbeddedChannel ch = channel();
        read(ch, "GET /v1/models HTTP/1.1\r\nHost: x\r\n\r\n");
        onlyTheIdleWatchIsPending(ch, "no read timer for a whole request");
        drainInbound(ch);
        ch.finishAndReleaseAll();
    }

    @Test
    void aStrayCrlfOnAnIdleConnectionStartsNoClock() throws Exception {
        EmbeddedChannel ch = channel();
        read(ch, "\r\n");
        onlyTheIdleWatchIsPending(ch, "CRLF between requests is not the start of one");
        ch.finishAndReleaseAll();
    }

    @Test
    void aPartialHeadArmsTheTimerBeforeTheCodecDecodedAnything() throws Exception {
        EmbeddedChannel ch = channel();
        read(ch, "GET /v1/mod");
        assertTrue(ch.inboundMessages().isEmpty(), "the codec holds a partial head back");
        long next = ch.runScheduledPendingTasks();
        assertTrue(next > 0 && next <= TimeUnit.MILLISECONDS.toNanos(300), "the read timer runs from the first byte: next in " + next);
        read(ch, "els HTTP/1.1\r\nHost: x\r\n\r\n");
        Object head = ch.readInbound();
        assertTrue(head instanceof HttpRequest, String.valueOf(head));
        ReferenceCountUtil.release(head);
        drainInbound(ch);
        onlyTheIdleWatchIsPending(ch, "the read timer is cancelled once the request is complete");
        ch.finishAndReleaseAll();
    }

    @Test
    void aConnectionThatSendsNothingIsClosedAfterTheIdleTimeout() throws Exception {
        EmbeddedChannel ch = channel();
        closesTenSecondsOn(ch, "its opening");
        ch.finishAndReleaseAll();
    }

    @Test
    void aRequestInFlightIsNeverIdleAndTheClockStartsAtItsResponse() throws Exception {
        EmbeddedChannel ch = channel();
        read(ch, "GET /v1/models HTTP/1.1\r\nHost: x\r\n\r\n");
        drainInbound(ch);
        after(ch, 25); // a slow model: two idle periods and more with nothing read or written
        assertTrue(ch.isOpen(), "a connection waiting for its response is not idle");
        respond(ch);
        closesTenSecondsOn(ch, "the response's end");
        ch.finishAndReleaseAll();
    }

    @Test
    void a100ContinueLeavesTheRequestInFlight() throws Exception {
        EmbeddedChannel ch = channel();
        read(ch, "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n");
        drainInbound(ch);
        ch.writeOutbound(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE));
        for (Object m; (m = ch.readOutbound()) != null; ) ReferenceCountUtil.release(m);
        read(ch, "{}");
        drainInbound(ch);
        after(ch, 25); // the body is in; a slow model, no bytes either way
        assertTrue(ch.isOpen(), "an interim answer is not the response: the request is still in flight");
        respond(ch);
        after(ch, 11);
        assertFalse(ch.isOpen(), "closed 10 s after the final response");
        ch.finishAndReleaseAll();
    }

    @Test
    void anyBytesBetweenRequestsRestartTheIdleClock() throws Exception {
        EmbeddedChannel ch = channel();
        after(ch, 6);
        read(ch, "\r\n");
        after(ch, 6);
        assertTrue(ch.isOpen(), "12 s since it opened, but 6 s since its last bytes");
        after(ch, 5);
        assertFalse(ch.isOpen(), "closed 10 s after its last bytes");
        ch.finishAndReleaseAll();
    }

    @Test
    void keepAliveRequestsEachRestartTheClock() throws Exception {
        EmbeddedChannel ch = channel();
        for (int i = 0; i < 3; i++) {
            after(ch, 7);
            read(ch, "GET /v1/models HTTP/1.1\r\nHost: x\r\n\r\n");
            drainInbound(ch);
            respond(ch);
        }
        assertTrue(ch.isOpen(), "21 s old, never 10 s idle");
        after(ch, 11);
        assertFalse(ch.isOpen());
        ch.finishAndReleaseAll();
    }
}
