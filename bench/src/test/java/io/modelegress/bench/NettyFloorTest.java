package io.modelegress.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The load table's floor path must proxy for real, or its figures measure nothing: requests through it get the upstream's own answers, over one kept upstream connection. */
class NettyFloorTest {
    private final BenchTransport transport = BenchTransport.best();
    private final EventLoopGroup group = transport.group(2, "floor-test");

    @AfterEach
    void stop() {
        group.shutdownGracefully(0, 100, TimeUnit.MILLISECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
    }

    @Test
    void keepAliveRequestsThroughTheFloorGetTheUpstreamsAnswersOverOneUpstreamConnection() throws Exception {
        AtomicInteger upstreamConnections = new AtomicInteger();
        AtomicInteger upstreamRequests = new AtomicInteger();
        Channel upstream = new ServerBootstrap()
                .group(group)
                .channel(transport.serverChannel())
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        upstreamConnections.incrementAndGet();
                        ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(1 << 16),
                                new SimpleChannelInboundHandler<FullHttpRequest>() {
                                    @Override
                                    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
                                        int n = upstreamRequests.incrementAndGet();
                                        String echo = "{\"object\":\"chat.completion\",\"n\":" + n + ",\"path\":\"" + req.uri()
                                                + "\",\"bytes\":" + req.content().readableBytes() + "}";
                                        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                                                Unpooled.copiedBuffer(echo, StandardCharsets.UTF_8));
                                        r.headers().set(HttpHeaderNames.CONTENT_LENGTH, r.content().readableBytes());
                                        ctx.writeAndFlush(r);
                                    }
                                });
                    }
                })
                .bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
        Channel floor = NettyFloor.start(transport, group, group, new InetSocketAddress("127.0.0.1", 0),
                (InetSocketAddress) upstream.localAddress());
        int port = ((InetSocketAddress) floor.localAddress()).getPort();
        String body = "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(5000);
            OutputStream out = s.getOutputStream();
            InputStream in = s.getInputStream();
            for (int i = 1; i <= 3; i++) {  // one agent connection, three requests
                out.write(("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: "
                        + body.length() + "\r\n\r\n" + body).getBytes(StandardCharsets.US_ASCII));
                out.flush();
                String response = readResponse(in);
                assertTrue(response.startsWith("HTTP/1.1 200"), response);
                // the upstream's own answer, to this request: its count, the path and the body it was sent
                assertTrue(response.endsWith("{\"object\":\"chat.completion\",\"n\":" + i
                        + ",\"path\":\"/v1/chat/completions\",\"bytes\":" + body.length() + "}"), response);
            }
            assertEquals(1, upstreamConnections.get(), "the floor keeps its one upstream connection, as a keep-alive pool would");
        } finally {
            floor.close().sync();
            upstream.close().sync();
        }
    }

    /** One response with a Content-Length body, read to its end. */
    private static String readResponse(InputStream in) throws Exception {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        while (!head.toString(StandardCharsets.US_ASCII).endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) throw new AssertionError("closed after: " + head);
            head.write(b);
        }
        String h = head.toString(StandardCharsets.US_ASCII);
        int length = 0;
        for (String line : h.split("\r\n")) {
            if (line.toLowerCase().startsWith("content-length:")) length = Integer.parseInt(line.substring(15).trim());
        }
        assertTrue(length > 0, h);
        byte[] rest = in.readNBytes(length);
        assertEquals(length, rest.length);
        return h + new String(rest, StandardCharsets.UTF_8);
    }
}
