package io.modelegress.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class MockUpstreamHandlerTest {
    private final LoadStats stats = new LoadStats();

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "{\"model\":\"m\",\"stream\":true}        | true",
        "{\"model\":\"m\", \"stream\" : true }    | true",
        "{\"model\":\"m\",\"stream\":false}       | false",
        "{\"model\":\"m\"}                        | false",
    })
    void streamsOnlyWhenTheBodyAsksForIt(String body, boolean expected) {
        assertEquals(expected, MockResponses.wantsStream(Unpooled.copiedBuffer(body, StandardCharsets.UTF_8)));
    }

    @Test
    void completionIsAboutThreeHundredBytesOfJson() {
        assertTrue(MockResponses.COMPLETION.length > 250 && MockResponses.COMPLETION.length < 400, "length " + MockResponses.COMPLETION.length);
    }

    @Test
    void answersJsonAfterTheDelayWithoutBlockingTheLoop() {
        EmbeddedChannel ch = new EmbeddedChannel(new MockUpstreamHandler(new MockUpstreamHandler.Behaviour(5, 3, 0), stats));
        ch.freezeTime();
        ch.writeInbound(post("{\"model\":\"m\"}"));
        assertNull(ch.readOutbound(), "nothing before the delay");
        assertEquals(1, stats.inFlight());
        ch.advanceTimeBy(5, TimeUnit.MILLISECONDS);
        ch.runPendingTasks();
        FullHttpResponse resp = ch.readOutbound();
        assertEquals(200, resp.status().code());
        assertEquals(MockResponses.COMPLETION.length, resp.content().readableBytes());
        resp.release();
        assertEquals(0, stats.inFlight());
        assertEquals(1, stats.maxInFlight());
        assertFalse(ch.finish());
    }

    @Test
    void streamsChunksAtTheIntervalThenDone() {
        EmbeddedChannel ch = new EmbeddedChannel(new MockUpstreamHandler(new MockUpstreamHandler.Behaviour(0, 3, 10), stats));
        ch.freezeTime();
        ch.writeInbound(post("{\"stream\":true}"));
        assertInstanceOf(HttpResponse.class, ch.readOutbound());
        assertEvent(ch.readOutbound(), MockResponses.CHUNK);
        assertNull(ch.readOutbound(), "the next event waits for the interval");
        for (int i = 0; i < 2; i++) {
            ch.advanceTimeBy(10, TimeUnit.MILLISECONDS);
            ch.runPendingTasks();
            assertEvent(ch.readOutbound(), MockResponses.CHUNK);
        }
        ch.advanceTimeBy(10, TimeUnit.MILLISECONDS);
        ch.runPendingTasks();
        assertEvent(ch.readOutbound(), MockResponses.DONE);
        assertInstanceOf(LastHttpContent.class, ch.readOutbound());
        assertEquals(0, stats.inFlight());
        assertFalse(ch.finish());
    }

    @Test
    void countsAStreamCutByTheClientAsAborted() {
        EmbeddedChannel ch = new EmbeddedChannel(new MockUpstreamHandler(new MockUpstreamHandler.Behaviour(0, 3, 10), stats));
        ch.writeInbound(post("{\"stream\":true}"));
        ch.close();
        ch.advanceTimeBy(50, TimeUnit.MILLISECONDS);
        ch.runPendingTasks();
        ch.releaseOutbound();
        assertEquals(0, stats.inFlight());
        assertTrue(stats.summary().contains("aborted=1"), stats.summary());
    }

    @Test
    void secondLinesCountStartsAndRestart() {
        stats.requestStarted();
        stats.requestStarted();
        stats.requestCompleted();
        assertEquals("42 2 1 2", stats.rollSecond(42));
        assertEquals("43 0 0 1", stats.rollSecond(43));
    }

    private static FullHttpRequest post(String body) {
        return new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/v1/chat/completions",
                Unpooled.copiedBuffer(body, StandardCharsets.UTF_8));
    }

    private static void assertEvent(Object msg, byte[] expected) {
        HttpContent c = assertInstanceOf(HttpContent.class, msg);
        ByteBuf b = c.content();
        assertEquals(new String(expected, StandardCharsets.US_ASCII), b.toString(StandardCharsets.US_ASCII));
        c.release();
    }
}
