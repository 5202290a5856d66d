package io.modelegress.server.pipeline;

import io.modelegress.server.http.HandlerNames;
import io.modelegress.core.config.ServerSettings;
import io.modelegress.server.downstream.DispatchHandler;
import io.modelegress.server.downstream.DownstreamGuard;
import io.modelegress.server.downstream.RequestBodyAggregator;
import io.modelegress.server.downstream.RequestBodyStreamer;
import io.modelegress.server.ops.Drain;
import io.modelegress.server.runtime.EgressRuntime;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpServerCodec;
import java.util.function.Supplier;

/**
 * The agent-side pipeline, in order: first-byte watch → codec → guard (limits, slowloris, the idle watch) → upload
 * (a large body streamed) → body (held) → dispatch. The watch is the guard's own, ahead of the codec, so the request-read timer counts from the first byte.
 */
public final class DownstreamInitializer extends ChannelInitializer<SocketChannel> {
    private final Supplier<EgressRuntime> runtime;
    private final Drain drain;

    public DownstreamInitializer(Supplier<EgressRuntime> runtime, Drain drain) {
        this.runtime = runtime;
        this.drain = drain;
    }

    @Override
    protected void initChannel(SocketChannel ch) {
        EgressRuntime rt = runtime.get();
        ServerSettings s = rt.config().server();
        ChannelPipeline p = ch.pipeline();
        DownstreamGuard guard = new DownstreamGuard(s, rt.router());
        p.addLast(HandlerNames.FIRST_BYTE, guard.firstByteWatch());
        p.addLast(HandlerNames.HTTP_CODEC, new HttpServerCodec(8192, s.maxHeaderSize(), RequestBodyAggregator.MAX_PIECE));
        p.addLast(HandlerNames.GUARD, guard);
        p.addLast(HandlerNames.UPLOAD, new RequestBodyStreamer(s.uploads(), guard, rt.router(), rt.metrics(), rt.bodies()));
        p.addLast(HandlerNames.BODY, new RequestBodyAggregator((int) Math.min(Integer.MAX_VALUE, s.maxRequestBody()), rt.router(), rt.bodies(), rt.metrics()));
        p.addLast(HandlerNames.DISPATCH, new DispatchHandler(runtime, drain));
    }
}
