package io.modelegress.server.downstream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.modelegress.core.config.ConfigLoader;
import io.modelegress.core.config.ServerSettings;
import io.modelegress.core.route.Router;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The request-read clock on the hot path: a request that arrives whole must not touch the timer queue. */
class DownstreamGuardTest {
    private static EmbeddedChannel channel() throws Exception {
        ServerSettings s = ConfigLoader.parse("server: { request_read_timeout: 300ms }\n", "t.yaml", k -> null).server();
        DownstreamGuard guard = new DownstreamGuard(s, new Router(List.of()));
        return new EmbeddedChannel(guard.firstByteWatch(), new HttpServerCodec(), guard);
    }

    private static void read(EmbeddedChannel ch, String bytes) {
        ch.writeInbound(Unpooled.copiedBuffer(bytes, StandardCharsets.ISO_8859_1));
    }

    @Test
    void aRequestThatArrivesWholeInOneReadSchedulesNoTimer() throws Exception {
        EmbeddedChannel ch = channel();
        read(ch, "GET /v1/models HTTP/1.1\r\nHost: x\r\n\r\n");
        assertEquals(-1, ch.runScheduledPendingTasks(), "no timer for a whole request");
        for (Object m; (m = ch.readInbound()) != null; ) ReferenceCountUtil.release(m);
        ch.finishAndReleaseAll();
    }

    @Test
    void aStrayCrlfOnAnIdleConnectionStartsNoClock() throws Exception {
        EmbeddedChannel ch = channel();
        read(ch, "\r\n");
        assertEquals(-1, ch.runScheduledPendingTasks(), "CRLF between requests is not the start of one");
        ch.finishAndReleaseAll();
    }

    @Test
    void aPartialHeadArmsTheTimerBeforeTheCodecDecodedAnything() throws Exception {
        EmbeddedChannel ch = channel();
        read(ch, "GET /v1/mod");
        assertTrue(ch.inboundMessages().isEmpty(), "the codec holds a partial head back");
        assertNotEquals(-1, ch.runScheduledPendingTasks(), "the read timer runs from the first byte");
        read(ch, "els HTTP/1.1\r\nHost: x\r\n\r\n");
        Object head = ch.readInbound();
        assertTrue(head instanceof HttpRequest, String.valueOf(head));
        ReferenceCountUtil.release(head);
        for (Object m; (m = ch.readInbound()) != null; ) ReferenceCountUtil.release(m);
        assertEquals(-1, ch.runScheduledPendingTasks(), "the timer is cancelled once the request is complete");
        ch.finishAndReleaseAll();
    }
}
