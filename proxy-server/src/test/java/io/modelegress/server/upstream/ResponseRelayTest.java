package io.modelegress.server.upstream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.HttpContent;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The relay alone: what comes in goes out as it is, and a full agent socket stops the upstream's reads. */
class ResponseRelayTest {
    private ChannelHandlerContext ctx;
    private final EmbeddedChannel agent = new EmbeddedChannel(new ChannelInboundHandlerAdapter() {
        @Override
        public void handlerAdded(ChannelHandlerContext c) { ctx = c; }
    });
    private final EmbeddedChannel upstream = new EmbeddedChannel();
    private final ResponseRelay relay = new ResponseRelay(ctx, upstream);

    @AfterEach
    void close() {
        agent.finishAndReleaseAll();
        upstream.finishAndReleaseAll();
    }

    @Test
    void theBufferThatCameInIsTheBufferThatGoesOut() {
        HttpContent c = new DefaultHttpContent(Unpooled.copiedBuffer(new byte[]{1, 2, 3}));
        relay.write(c);
        assertFalse(relay.flush());
        HttpContent out = agent.readOutbound();
        assertTrue(out == c, "no copy");
        out.release();
    }

    @Test
    void aFullAgentSocketPausesTheUpstreamAndADrainedOneResumesIt() {
        agent.unsafe().outboundBuffer().setUserDefinedWritability(1, false);
        assertTrue(relay.flush(), "paused");
        assertFalse(upstream.config().isAutoRead());
        assertFalse(relay.onDownstreamWritable(), "still full: nothing changes");
        assertFalse(upstream.config().isAutoRead());
        agent.unsafe().outboundBuffer().setUserDefinedWritability(1, true);
        assertTrue(relay.onDownstreamWritable(), "resumed after a pause");
        assertTrue(upstream.config().isAutoRead());
        assertFalse(relay.onDownstreamWritable(), "a second drain was not after a pause");
        assertEquals(true, upstream.config().isAutoRead());
    }
}
