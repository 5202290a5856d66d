package io.modelegress.bench;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;

import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * The floor of the sidecar's stack, for the load table: the least an HTTP/1.1 reverse proxy built on Netty does,
 * and nothing more. Each agent connection gets one keep-alive upstream connection on its own event loop, made on its
 * first request; requests and responses are decoded and re-encoded by Netty's codecs and passed through as they
 * arrive. No routing, headers, limits, timers, metrics, retries or error handling: a benchmark path, never a proxy
 * to run. What it costs per request is what any design on Netty's codec and pipeline costs at least, so the
 * sidecar's distance above it is its own work, and nginx's distance below it is the stack's. Keep-alive loads only:
 * it passes the agent's {@code Connection} header on, so {@code Connection: close} would close the upstream too.
 */
public final class NettyFloor {
    private NettyFloor() {}

    public static void main(String[] argv) throws Exception {
        io.modelegress.server.cli.Main.nettyAsTheSidecarRunsIt();  // no leak sampling, no JFR events, unless asked
        CliArgs a;
        try {
            a = new CliArgs(argv, "port", "upstream-port", "threads");
        } catch (IllegalArgumentException e) {
            System.err.println("netty-floor: " + e.getMessage());
            System.exit(2);
            return;
        }
        InetSocketAddress upstream = new InetSocketAddress("127.0.0.1", a.integer("upstream-port", 18084));
        BenchTransport transport = BenchTransport.best();
        EventLoopGroup boss = transport.group(1, "floor-accept");
        EventLoopGroup workers = transport.group(a.integer("threads", 2), "floor-io");
        Channel server = start(transport, boss, workers, new InetSocketAddress("127.0.0.1", a.integer("port", 18086)), upstream);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.close().awaitUninterruptibly(1, TimeUnit.SECONDS);
            workers.shutdownGracefully(0, 200, TimeUnit.MILLISECONDS).awaitUninterruptibly(2, TimeUnit.SECONDS);
            boss.shutdownGracefully(0, 200, TimeUnit.MILLISECONDS).awaitUninterruptibly(2, TimeUnit.SECONDS);
        }, "netty-floor-stop"));
        System.out.println("netty-floor: listening on " + server.localAddress() + ", upstream " + upstream + ", transport " + transport.name());
        System.out.flush();
        server.closeFuture().sync();
    }

    /** Binds the floor proxy on {@code listen}, forwarding to {@code upstream}; waits for the bind (a benchmark's main or a test). */
    static Channel start(BenchTransport transport, EventLoopGroup boss, EventLoopGroup workers, InetSocketAddress listen,
                         InetSocketAddress upstream) throws InterruptedException {
        return new ServerBootstrap()
                .group(boss, workers)
                .channel(transport.serverChannel())
                .option(ChannelOption.SO_BACKLOG, 1024)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.ALLOCATOR, ByteBufAllocator.DEFAULT)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new HttpServerCodec(), new Downstream(transport, upstream));
                    }
                })
                .bind(listen).sync().channel();
    }

    /** One agent connection: its requests go to one upstream connection, its responses come back on it. */
    private static final class Downstream extends ChannelInboundHandlerAdapter {
        private final BenchTransport transport;
        private final InetSocketAddress address;
        private Channel up;
        private boolean connecting;
        private final java.util.ArrayDeque<Object> waiting = new java.util.ArrayDeque<>();

        Downstream(BenchTransport transport, InetSocketAddress address) {
            this.transport = transport;
            this.address = address;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (up != null) {
                forward(msg);
                return;
            }
            waiting.add(msg);
            if (connecting) return;
            connecting = true;
            Channel down = ctx.channel();
            new Bootstrap()
                    .group(down.eventLoop())
                    .channel(transport.socketChannel())
                    .option(ChannelOption.TCP_NODELAY, true)
                    .option(ChannelOption.ALLOCATOR, ByteBufAllocator.DEFAULT)
                    .handler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            ch.pipeline().addLast(new HttpClientCodec(), new Upstream(down));
                        }
                    })
                    .connect(address).addListener((ChannelFutureListener) f -> {
                        if (!f.isSuccess()) {
                            waiting.forEach(ReferenceCountUtil::release);
                            waiting.clear();
                            down.close();
                            return;
                        }
                        if (!down.isActive()) {  // the agent left while we connected
                            f.channel().close();
                            return;
                        }
                        up = f.channel();
                        up.closeFuture().addListener(c -> down.close());
                        Object m;
                        while ((m = waiting.poll()) != null) forward(m);
                    });
        }

        private void forward(Object msg) {
            if (msg instanceof LastHttpContent) up.writeAndFlush(msg);
            else up.write(msg);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            waiting.forEach(ReferenceCountUtil::release);
            waiting.clear();
            if (up != null) up.close();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    /** The upstream side: every response object goes back to the agent; the end of one flushes it. */
    private static final class Upstream extends ChannelInboundHandlerAdapter {
        private final Channel down;

        Upstream(Channel down) {
            this.down = down;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (!(msg instanceof HttpObject)) {
                ReferenceCountUtil.release(msg);
                return;
            }
            if (msg instanceof LastHttpContent) down.writeAndFlush(msg);
            else down.write(msg);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}
