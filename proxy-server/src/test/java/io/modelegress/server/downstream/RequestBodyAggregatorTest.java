package io.modelegress.server.downstream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.modelegress.core.route.Router;
import io.modelegress.server.http.BodyBudget;
import io.modelegress.server.metrics.EgressMetrics;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The aggregator on an EmbeddedChannel behind Netty's server codec: a body that comes in one piece becomes one
 * request around that piece (no composite buffer), any other body takes Netty's general path, and both hold the
 * body's bytes in the budget until the request is released.
 */
class RequestBodyAggregatorTest {
    private final BodyBudget budget = new BodyBudget(1000);
    private final EmbeddedChannel ch = new EmbeddedChannel(new HttpServerCodec(),
            new RequestBodyAggregator(100, new Router(List.of()), budget, new EgressMetrics()));

    @AfterEach
    void close() {
        ch.finishAndReleaseAll();
    }

    private static ByteBuf bytes(String s) { return Unpooled.copiedBuffer(s, StandardCharsets.ISO_8859_1); }

    private static List<String> lines(io.netty.handler.codec.http.HttpHeaders h) {
        return h.entries().stream().map(e -> e.getKey() + ": " + e.getValue()).toList();
    }

    private FullHttpRequest request() { return assertInstanceOf(FullHttpRequest.class, ch.readInbound()); }

    @Test
    void aBodyInOnePieceIsOneRequestAroundThatPiece() {
        ch.writeInbound(bytes("POST /v1/a HTTP/1.1\r\nhost: x\r\ncontent-length: 11\r\n\r\nhello world"));
        FullHttpRequest r = request();
        assertFalse(r.content() instanceof CompositeByteBuf, "no composite for one piece");
        assertEquals("hello world", r.content().toString(StandardCharsets.ISO_8859_1));
        assertEquals("11", r.headers().get("content-length"));
        assertEquals("x", r.headers().get("host"));
        assertEquals(11, budget.used(), "the body's share travels with the request");
        budget.release(r);
        assertEquals(0, budget.used());
    }

    @Test
    void aBodyInPiecesIsAggregatedAsBefore() {
        ch.writeInbound(bytes("POST /v1/a HTTP/1.1\r\nhost: x\r\ncontent-length: 11\r\n\r\nhello"));
        assertNull(ch.readInbound(), "nothing until the body is whole");
        ch.writeInbound(bytes(" world"));
        FullHttpRequest r = request();
        assertEquals("hello world", r.content().toString(StandardCharsets.ISO_8859_1));
        assertEquals(11, budget.used());
        budget.release(r);
        assertEquals(0, budget.used());
    }

    @Test
    void aRequestWithoutABodyGetsItsZeroLengthAndPipelinedOnesStayInOrder() {
        ch.writeInbound(bytes("GET /v1/models HTTP/1.1\r\nhost: x\r\n\r\n"
                + "POST /v1/b HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\n\r\n{}"));
        FullHttpRequest get = request();
        assertEquals("/v1/models", get.uri());
        assertEquals("0", get.headers().get("content-length"), "as Netty's aggregator sets it");
        assertEquals(0, get.content().readableBytes());
        FullHttpRequest post = request();
        assertEquals("/v1/b", post.uri());
        assertEquals("{}", post.content().toString(StandardCharsets.ISO_8859_1));
        budget.release(get);
        budget.release(post);
        assertEquals(0, budget.used());
    }

    @Test
    void aBodyTheBudgetCannotTakeIsRefusedAndTheConnectionServesTheNext() {
        BodyBudget small = new BodyBudget(5);
        EmbeddedChannel c = new EmbeddedChannel(new HttpServerCodec(),
                new RequestBodyAggregator(100, new Router(List.of()), small, new EgressMetrics()));
        try {
            c.writeInbound(bytes("POST /v1/a HTTP/1.1\r\nhost: x\r\ncontent-length: 11\r\n\r\nhello world"));
            assertNull(c.readInbound(), "refused, not passed on");
            ByteBuf out = c.readOutbound();
            String answer = out.toString(StandardCharsets.ISO_8859_1);
            out.release();
            assertTrue(answer.startsWith("HTTP/1.1 503"), answer);
            assertTrue(answer.contains("overloaded"), answer);
            assertEquals(0, small.used());
            c.writeInbound(bytes("POST /v1/a HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\n\r\n{}"));
            FullHttpRequest r = assertInstanceOf(FullHttpRequest.class, c.readInbound());
            assertEquals(2, small.used());
            small.release(r);
        } finally {
            c.finishAndReleaseAll();
        }
    }

    @Test
    void expectContinueAndOversizedLengthsAreAnsweredAtTheHead() {
        ch.writeInbound(bytes("POST /v1/a HTTP/1.1\r\nhost: x\r\nexpect: 100-continue\r\ncontent-length: 2\r\n\r\n"));
        ByteBuf cont = ch.readOutbound();
        assertTrue(cont.toString(StandardCharsets.ISO_8859_1).startsWith("HTTP/1.1 100 Continue"));
        cont.release();
        ch.writeInbound(bytes("{}"));
        budget.release(request());

        ch.writeInbound(bytes("POST /v1/a HTTP/1.1\r\nhost: x\r\ncontent-length: 101\r\n\r\n"));
        ByteBuf refused = ch.readOutbound();
        assertTrue(refused.toString(StandardCharsets.ISO_8859_1).startsWith("HTTP/1.1 413"), "before any body byte");
        refused.release();
        assertEquals(0, budget.used());
    }

    @Test
    void aHeadWhoseBodyCannotComeInOnePieceTakesItsBudgetAtOnce() {
        BodyBudget big = new BodyBudget(1 << 20);
        EmbeddedChannel c = new EmbeddedChannel(new HttpServerCodec(8192, 8192, RequestBodyAggregator.MAX_PIECE),
                new RequestBodyAggregator(1 << 20, new Router(List.of()), big, new EgressMetrics()));
        try {
            int length = RequestBodyAggregator.MAX_PIECE + 1;
            c.writeInbound(bytes("POST /v1/a HTTP/1.1\r\nhost: x\r\ncontent-length: " + length + "\r\n\r\n"));
            assertEquals(length, big.used(), "reserved by its Content-Length at the head, not held for a piece");
            c.writeInbound(Unpooled.wrappedBuffer(new byte[length]));
            FullHttpRequest r = assertInstanceOf(FullHttpRequest.class, c.readInbound());
            assertEquals(length, r.content().readableBytes());
            big.release(r);
            assertEquals(0, big.used());

            c.writeInbound(bytes("POST /v1/a HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\n\r\n"));
            assertEquals(0, big.used(), "a small body's head waits for its piece");
            c.writeInbound(bytes("hello"));
            FullHttpRequest small = assertInstanceOf(FullHttpRequest.class, c.readInbound());
            assertFalse(small.content() instanceof CompositeByteBuf);
            big.release(small);
        } finally {
            c.finishAndReleaseAll();
        }
    }

    @Test
    void theReferencePathGivesTheSameRequest() {
        EmbeddedChannel netty = new EmbeddedChannel(new HttpServerCodec(), new HttpObjectAggregator(100));
        String raw = "POST /v1/a?x=1 HTTP/1.1\r\nhost: x\r\nx-a: 1\r\nx-a: 2\r\ncontent-length: 11\r\n\r\nhello world";
        netty.writeInbound(bytes(raw));
        ch.writeInbound(bytes(raw));
        FullHttpRequest expected = netty.readInbound();
        FullHttpRequest actual = request();
        try {
            assertEquals(expected.method(), actual.method());
            assertEquals(expected.uri(), actual.uri());
            assertEquals(expected.protocolVersion(), actual.protocolVersion());
            assertEquals(lines(expected.headers()), lines(actual.headers()));
            assertEquals(lines(expected.trailingHeaders()), lines(actual.trailingHeaders()));
            assertEquals(expected.content(), actual.content());
        } finally {
            expected.release();
            budget.release(actual);
            netty.finishAndReleaseAll();
        }
    }
}
