package io.modelegress.server.testing;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.DecoderResultProvider;
import io.netty.handler.codec.socksx.v5.DefaultSocks5CommandResponse;
import io.netty.handler.codec.socksx.v5.DefaultSocks5InitialResponse;
import io.netty.handler.codec.socksx.v5.DefaultSocks5PasswordAuthResponse;
import io.netty.handler.codec.socksx.v5.Socks5AddressType;
import io.netty.handler.codec.socksx.v5.Socks5AuthMethod;
import io.netty.handler.codec.socksx.v5.Socks5CommandRequest;
import io.netty.handler.codec.socksx.v5.Socks5CommandRequestDecoder;
import io.netty.handler.codec.socksx.v5.Socks5CommandStatus;
import io.netty.handler.codec.socksx.v5.Socks5CommandType;
import io.netty.handler.codec.socksx.v5.Socks5InitialRequest;
import io.netty.handler.codec.socksx.v5.Socks5InitialRequestDecoder;
import io.netty.handler.codec.socksx.v5.Socks5PasswordAuthRequest;
import io.netty.handler.codec.socksx.v5.Socks5PasswordAuthRequestDecoder;
import io.netty.handler.codec.socksx.v5.Socks5PasswordAuthStatus;
import io.netty.handler.codec.socksx.v5.Socks5ServerEncoder;
import io.netty.util.NetUtil;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * A SOCKS5 proxy on 127.0.0.1:0 that requires username/password (RFC 1929), serves CONNECT only, and resolves
 * domain names from its own table (never DNS), refusing unknown ones with HOST_UNREACHABLE. It records what each
 * client asked for, so a test can tell {@code socks5h} (a DOMAIN destination) from {@code socks5} (an address).
 */
public final class Socks5TestProxy implements AutoCloseable {
    private static final String DECODER = "socks-decoder";
    private static final String ENCODER = "socks-encoder";
    private static final String HANDSHAKE = "socks-handshake";

    /** One CONNECT request as the client sent it. */
    public record Connect(Socks5AddressType type, String host, int port) {}

    private final String user;
    private final String password;
    private final Map<String, String> names;
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final Channel server;
    private final List<Channel> channels = new CopyOnWriteArrayList<>();
    private final List<Connect> connects = new CopyOnWriteArrayList<>();
    private final List<String> usernames = new CopyOnWriteArrayList<>();

    /** {@code names}: host name → IP literal, the proxy's whole view of DNS. */
    public Socks5TestProxy(String user, String password, Map<String, String> names) throws InterruptedException {
        this.user = user;
        this.password = password;
        this.names = Map.copyOf(names);
        server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        channels.add(ch);
                        ch.pipeline().addLast(ENCODER, Socks5ServerEncoder.DEFAULT)
                                .addLast(DECODER, new Socks5InitialRequestDecoder())
                                .addLast(HANDSHAKE, new Handshake());
                    }
                }).bind("127.0.0.1", 0).sync().channel();
    }

    public int port() { return ((InetSocketAddress) server.localAddress()).getPort(); }

    /** {@code scheme://user:password@127.0.0.1:port}, for {@code socks5} or {@code socks5h}. */
    public String url(String scheme, String user, String password) {
        return scheme + "://" + user + ":" + password + "@127.0.0.1:" + port();
    }

    /** Every CONNECT that passed authentication, in arrival order. */
    public List<Connect> connects() { return List.copyOf(connects); }

    /** Every username a client tried, accepted or not. */
    public List<String> usernames() { return List.copyOf(usernames); }

    @Override
    public void close() {
        server.close().awaitUninterruptibly();
        channels.forEach(Channel::close);
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
    }

    /** Greeting → password → CONNECT, each step swapping in the decoder for the next message. */
    private final class Handshake extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
                if (msg instanceof DecoderResultProvider && !((DecoderResultProvider) msg).decoderResult().isSuccess()) {
                    ctx.close(); // not SOCKS5
                } else if (msg instanceof Socks5InitialRequest) {
                    greet(ctx, (Socks5InitialRequest) msg);
                } else if (msg instanceof Socks5PasswordAuthRequest) {
                    authenticate(ctx, (Socks5PasswordAuthRequest) msg);
                } else if (msg instanceof Socks5CommandRequest) {
                    command(ctx, (Socks5CommandRequest) msg);
                } else {
                    // Bytes before the tunnel exists: the client did not wait for our reply.
                    ctx.close();
                }
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }

        private void greet(ChannelHandlerContext ctx, Socks5InitialRequest req) {
            if (!req.authMethods().contains(Socks5AuthMethod.PASSWORD)) {
                ctx.writeAndFlush(new DefaultSocks5InitialResponse(Socks5AuthMethod.UNACCEPTED)).addListener(ChannelFutureListener.CLOSE);
                return;
            }
            ctx.pipeline().replace(DECODER, DECODER, new Socks5PasswordAuthRequestDecoder());
            ctx.writeAndFlush(new DefaultSocks5InitialResponse(Socks5AuthMethod.PASSWORD));
        }

        private void authenticate(ChannelHandlerContext ctx, Socks5PasswordAuthRequest req) {
            usernames.add(req.username());
            if (!user.equals(req.username()) || !password.equals(req.password())) {
                // RFC 1929: on failure the server must close the connection.
                ctx.writeAndFlush(new DefaultSocks5PasswordAuthResponse(Socks5PasswordAuthStatus.FAILURE))
                        .addListener(ChannelFutureListener.CLOSE);
                return;
            }
            ctx.pipeline().replace(DECODER, DECODER, new Socks5CommandRequestDecoder());
            ctx.writeAndFlush(new DefaultSocks5PasswordAuthResponse(Socks5PasswordAuthStatus.SUCCESS));
        }

        private void command(ChannelHandlerContext ctx, Socks5CommandRequest req) {
            if (req.type() != Socks5CommandType.CONNECT) {
                refuse(ctx, Socks5CommandStatus.COMMAND_UNSUPPORTED);
                return;
            }
            connects.add(new Connect(req.dstAddrType(), req.dstAddr(), req.dstPort()));
            String ip = req.dstAddrType() == Socks5AddressType.DOMAIN
                    ? names.get(req.dstAddr().toLowerCase(Locale.ROOT)) : req.dstAddr();
            if (ip == null || !NetUtil.isValidIpV4Address(ip) && !NetUtil.isValidIpV6Address(ip)) {
                refuse(ctx, Socks5CommandStatus.HOST_UNREACHABLE);
                return;
            }
            Channel in = ctx.channel();
            in.config().setAutoRead(false); // nothing more from the client until the tunnel exists
            ChannelFuture out = new Bootstrap().group(in.eventLoop()).channel(NioSocketChannel.class)
                    .option(ChannelOption.AUTO_READ, false)
                    .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 5_000)
                    .handler(new Relay(in))
                    .connect(new InetSocketAddress(NetUtil.createInetAddressFromIpAddressString(ip), req.dstPort()));
            channels.add(out.channel());
            out.addListener((ChannelFutureListener) f -> {
                if (!f.isSuccess()) {
                    refuse(ctx, Socks5CommandStatus.CONNECTION_REFUSED);
                    return;
                }
                InetSocketAddress bound = (InetSocketAddress) f.channel().localAddress();
                ctx.writeAndFlush(new DefaultSocks5CommandResponse(Socks5CommandStatus.SUCCESS, Socks5AddressType.IPv4,
                        bound.getAddress().getHostAddress(), bound.getPort())).addListener((ChannelFutureListener) w -> {
                            if (!w.isSuccess()) {
                                f.channel().close();
                                return;
                            }
                            // From here on raw bytes: the relay replaces the SOCKS codec, then both sides start reading.
                            in.pipeline().addLast(new Relay(f.channel()));
                            in.pipeline().remove(this);
                            in.pipeline().remove(ENCODER);
                            in.pipeline().remove(DECODER);
                            f.channel().read();
                        });
            });
        }

        private void refuse(ChannelHandlerContext ctx, Socks5CommandStatus status) {
            ctx.writeAndFlush(new DefaultSocks5CommandResponse(status, Socks5AddressType.IPv4))
                    .addListener(ChannelFutureListener.CLOSE);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    /**
     * Copies bytes from its channel to {@code peer}, one read at a time: the next read starts only once the write
     * to the other side completed, so a slow side holds the fast one back instead of filling memory.
     */
    private static final class Relay extends ChannelInboundHandlerAdapter {
        private final Channel peer;

        Relay(Channel peer) { this.peer = peer; }

        /** The client side starts reading when the relay is added; the target side once the SOCKS reply is out. */
        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            if (ctx.channel().isActive()) ctx.read();
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            // A write to a closed peer fails and releases msg; either way the buffer has one owner.
            peer.writeAndFlush(msg).addListener((ChannelFutureListener) f -> {
                if (f.isSuccess()) ctx.read();
                else closeOnFlush(ctx.channel());
            });
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            closeOnFlush(peer);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    private static void closeOnFlush(Channel ch) {
        if (ch.isActive()) ch.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
    }
}
