package io.modelegress.server.testing;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * A TCP peer for faults a real server or proxy won't produce on demand: accepts and stays silent forever, or answers
 * the first bytes it receives with a fixed reply (a 407, garbage) and then goes quiet or closes.
 */
public final class FaultServer implements AutoCloseable {
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final Channel server;
    private final List<Channel> connections = new CopyOnWriteArrayList<>();

    private FaultServer(String reply, boolean closeAfterReply) throws InterruptedException {
        server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        connections.add(ch);
                        ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                            private boolean replied;

                            @Override
                            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                                ReferenceCountUtil.release(msg);
                                if (reply == null || replied) return;
                                replied = true;
                                var f = ctx.writeAndFlush(Unpooled.copiedBuffer(reply, StandardCharsets.ISO_8859_1));
                                if (closeAfterReply) f.addListener(io.netty.channel.ChannelFutureListener.CLOSE);
                            }
                        });
                    }
                }).bind("127.0.0.1", 0).sync().channel();
    }

    /** Accepts connections and never sends a byte (no CONNECT reply, no TLS ServerHello, no HTTP response). */
    public static FaultServer silent() throws InterruptedException { return new FaultServer(null, false); }

    /** Answers the first bytes with {@code reply}, then closes. */
    public static FaultServer replying(String reply) throws InterruptedException { return new FaultServer(reply, true); }

    /** Answers the first bytes with {@code reply}, then stays silent with the connection open (a quiet stream). */
    public static FaultServer replyingThenSilent(String reply) throws InterruptedException { return new FaultServer(reply, false); }

    public int port() { return ((InetSocketAddress) server.localAddress()).getPort(); }

    /** True once every accepted connection has been closed (by the peer or us). */
    public boolean allClosed() { return connections.stream().noneMatch(Channel::isActive); }

    public int accepted() { return connections.size(); }

    @Override
    public void close() {
        server.close().awaitUninterruptibly();
        connections.forEach(Channel::close);
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
    }

}
