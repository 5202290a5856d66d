package io.modelegress.server.upstream;

import io.modelegress.core.config.Timeouts;
import io.modelegress.core.config.UpstreamSettings;
import io.modelegress.core.timeout.Deadline;
import io.modelegress.server.http.HandlerNames;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.proxy.ProxyHandler;
import io.netty.handler.proxy.Socks5ProxyHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.resolver.NoopAddressResolverGroup;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import io.modelegress.server.metrics.EgressMetrics;
import io.netty.util.AttributeKey;

/**
 * Opens one upstream connection phase by phase — DNS, TCP connect, proxy handshake, TLS — each under its own limit
 * capped by the request deadline, each failing with its own code. The result is a channel ready for HTTP.
 */
public final class UpstreamConnector implements Connector {
    public static final int MAX_RESPONSE_HEADER_SIZE = 64 * 1024;
    private static final String CONNECT_SINK = "connect-sink";

    /** Which proxy a connection went through (a failover list or PAC may have picked another than the first). */
    public static final AttributeKey<Used> PROXY_USED = AttributeKey.valueOf("egress.proxy.used");

    /** {@code hop} null: direct. */
    public record Used(ProxyHop hop) {}

    /** The proxy auth scheme a connection used (basic, ntlm, negotiate, none), for the access log. */
    public static final AttributeKey<String> PROXY_AUTH = AttributeKey.valueOf("egress.proxy.auth");

    private final Class<? extends SocketChannel> channelType;
    private final Dns dns;
    private final SslContext sslContext;
    /** The same trust offering {@code h2,http/1.1} by ALPN, for upstreams with {@code http2: auto}; null: never. */
    private final SslContext h2SslContext;
    private final ProxyPlanner planner; // null: Target.proxy is the only way (doctor)
    private final EgressMetrics metrics;
    private final ProxyAuthenticator.Memory authMemory;
    private final KerberosClient kerberos;
    private final ProxyFailover failover; // with a planner

    public UpstreamConnector(Class<? extends SocketChannel> channelType, Dns dns, SslContext sslContext) {
        this(channelType, dns, sslContext, null, null);
    }

    public UpstreamConnector(Class<? extends SocketChannel> channelType, Dns dns, SslContext sslContext,
                             ProxyPlanner planner, EgressMetrics metrics) {
        this.channelType = channelType;
        this.dns = dns;
        this.sslContext = sslContext;
        this.h2SslContext = TlsContexts.alpnTwin(sslContext);
        this.planner = planner;
        this.metrics = metrics;
        this.authMemory = planner == null ? new ProxyAuthenticator.Memory() : planner.authMemory();
        this.kerberos = planner == null ? null : planner.kerberos();
        this.failover = planner == null ? null : new ProxyFailover(this, planner, metrics);
    }

    /** What a connection is for: the upstream, the proxy on the way (or null), and the limits of this attempt. */
    public record Target(UpstreamSettings upstream, ProxyHop proxy, Timeouts timeouts, Deadline deadline, boolean alwaysTunnel) {
        public Target(UpstreamSettings upstream, ProxyHop proxy, Timeouts timeouts, Deadline deadline) {
            this(upstream, proxy, timeouts, deadline, false);
        }

        /**
         * Plain-http upstreams through an HTTP proxy are sent in absolute-form, not tunnelled — unless the proxy wants
         * NTLM or Negotiate, which authenticate a connection: then they are tunnelled with CONNECT like https ones.
         * {@code alwaysTunnel} (a WebSocket, which a forward proxy cannot upgrade) tunnels every upstream.
         */
        public boolean absoluteForm() {
            return !alwaysTunnel && proxy != null && proxy.isHttp() && !upstream.isTls() && proxy.authScheme().equals("basic");
        }

        public Target withProxy(ProxyHop hop) {
            return hop == proxy ? this : new Target(upstream, hop, timeouts, deadline, alwaysTunnel);
        }
    }

    /** The target as the connection was actually made: its proxy is the one this channel went through. */
    public static Target asConnected(Target t, Channel ch) {
        Used used = ch.attr(PROXY_USED).get();
        return used == null ? t : t.withProxy(used.hop());
    }

    /**
     * A connection ready for HTTP. With a planner, the upstream's proxy route decides (and {@code t.proxy()} is only
     * its first leg): {@link ProxyFailover} tries each leg in order while the proxy itself fails at connect (refused,
     * timeout, 5xx to CONNECT), the failed proxy ejected for {@code proxy.eject_for}.
     */
    @Override
    public Future<Channel> connect(EventLoop loop, Target t) {
        if (planner == null) return connectOnce(loop, t);
        return failover.connect(loop, t);
    }

    /** One connection through exactly {@code t.proxy()} (or direct). */
    public Future<Channel> connectOnce(EventLoop loop, Target t) {
        Promise<Channel> ready = loop.newPromise();
        UpstreamSettings u = t.upstream();
        ProxyHop proxy = t.proxy();
        boolean viaProxy = proxy != null;
        String dnsHost = viaProxy ? proxy.host() : u.host();
        Deadline.Limit dnsLimit = t.deadline().limitFor(t.timeouts().dns(), "timeouts.dns");
        dns.resolve(loop, dnsHost, dnsLimit.nanos(), dnsLimit.key(), dnsLimit.configured()).addListener(resolved -> {
            if (!resolved.isSuccess()) {
                ready.tryFailure(resolved.cause());
                return;
            }
            InetAddress addr = (InetAddress) resolved.getNow();
            if (viaProxy && proxy.isSocks() && !proxy.resolvesAtProxy()) {
                // socks5 (not socks5h): the target name is resolved here, then handed to the proxy as an address.
                Deadline.Limit l = t.deadline().limitFor(t.timeouts().dns(), "timeouts.dns");
                dns.resolve(loop, u.host(), l.nanos(), l.key(), l.configured()).addListener(target -> {
                    if (!target.isSuccess()) {
                        ready.tryFailure(target.cause());
                        return;
                    }
                    open(loop, t, new InetSocketAddress(addr, proxy.port()),
                            new InetSocketAddress((InetAddress) target.getNow(), u.port()), ready);
                });
            } else if (viaProxy) {
                SocketAddress dest = t.absoluteForm() ? null : InetSocketAddress.createUnresolved(u.host(), u.port());
                open(loop, t, new InetSocketAddress(addr, proxy.port()), dest, ready);
            } else {
                open(loop, t, new InetSocketAddress(addr, u.port()), null, ready);
            }
        });
        return ready;
    }

    /** {@code tunnelTo}: the destination the proxy handler asks for (null when not tunnelling). */
    private void open(EventLoop loop, Target t, InetSocketAddress first, SocketAddress tunnelTo, Promise<Channel> ready) {
        ProxyHop proxy = t.proxy();
        ProxyAuthenticator auth = tunnelTo != null && proxy.isHttp() ? new ProxyAuthenticator(proxy, authMemory, kerberos) : null;
        if (auth == null) {
            open(loop, t, first, tunnelTo, null, false, ready);
            return;
        }
        // A Negotiate token is made before the connection opens, on the GSS pool; the rest continues on this loop.
        auth.prepare().whenComplete((ok, err) -> loop.execute(() -> {
            if (err != null) {
                Throwable c = err instanceof java.util.concurrent.CompletionException && err.getCause() != null ? err.getCause() : err;
                ready.tryFailure(UpstreamFailures.asEgress(c));
                return;
            }
            open(loop, t, first, tunnelTo, auth, false, ready);
        }));
    }

    private void open(EventLoop loop, Target t, InetSocketAddress first, SocketAddress tunnelTo, ProxyAuthenticator auth,
                      boolean restarted, Promise<Channel> ready) {
        ProxyHop proxy = t.proxy();
        Deadline.Limit connectLimit = t.deadline().limitFor(t.timeouts().connect(), "timeouts.connect");
        Deadline.Limit proxyLimit = t.deadline().limitFor(t.timeouts().proxyConnect(), "timeouts.proxy_connect");
        ProxyHandler proxyHandler = tunnelTo == null ? null : proxyHandler(proxy, first, proxyLimit.nanos() / 1_000_000, auth);
        Bootstrap b = new Bootstrap()
                .group(loop)
                .channel(channelType)
                .resolver(NoopAddressResolverGroup.INSTANCE)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.max(1, Math.min(Integer.MAX_VALUE, connectLimit.nanos() / 1_000_000)))
                .option(ChannelOption.TCP_NODELAY, true)
                // The agent side's allocator (EgressServer): Netty 4.2's default, adaptive one on both sides of an exchange.
                .option(ChannelOption.ALLOCATOR, io.netty.buffer.ByteBufAllocator.DEFAULT)
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        if (proxy != null && proxy.isTls()) {
                            ch.pipeline().addLast(HandlerNames.PROXY_TLS, sslContext.newHandler(ch.alloc(), proxy.host(), proxy.port()));
                        }
                        if (proxyHandler != null) ch.pipeline().addLast(HandlerNames.PROXY, proxyHandler);
                        ch.pipeline().addLast(HandlerNames.CLIENT_CODEC, new HttpClientCodec(4096, MAX_RESPONSE_HEADER_SIZE, 65536));
                        ch.pipeline().addLast(CONNECT_SINK, ConnectPhaseSink.INSTANCE);
                    }
                });
        ChannelFuture cf = proxyHandler != null ? b.connect(tunnelTo) : b.connect(first);
        cf.addListener(connected -> {
            if (!connected.isSuccess()) {
                ready.tryFailure(UpstreamFailures.connect(connected.cause(), t, first, connectLimit));
                return;
            }
            Channel ch = cf.channel();
            if (proxyHandler == null) {
                startTls(ch, t, ready);
                return;
            }
            proxyHandler.connectFuture().addListener(tunnel -> {
                if (!tunnel.isSuccess()) {
                    ch.close();
                    if (auth != null && !restarted && causedBy(tunnel.cause(), ProxyAuthenticator.Restart.class)) {
                        // The proxy closed after its 407 under auto: the scheme is learned, open once more with it.
                        ProxyAuthenticator again = new ProxyAuthenticator(proxy, authMemory, kerberos);
                        again.prepare().whenComplete((ok, err) -> loop.execute(() -> {
                            if (err != null) ready.tryFailure(UpstreamFailures.asEgress(unwrap(err)));
                            else open(loop, t, first, tunnelTo, again, true, ready);
                        }));
                        return;
                    }
                    ready.tryFailure(UpstreamFailures.proxy(tunnel.cause(), t, proxyLimit));
                    return;
                }
                if (auth != null) ch.attr(PROXY_AUTH).set(auth.used());
                startTls(ch, t, ready);
            });
        });
    }

    private static boolean causedBy(Throwable t, Class<? extends Throwable> type) {
        for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) if (type.isInstance(c)) return true;
        return false;
    }

    private static Throwable unwrap(Throwable err) {
        return err instanceof java.util.concurrent.CompletionException && err.getCause() != null ? err.getCause() : err;
    }

    private static ProxyHandler proxyHandler(ProxyHop proxy, InetSocketAddress proxyAddress, long timeoutMillis, ProxyAuthenticator auth) {
        ProxyHandler h;
        if (proxy.isSocks()) {
            h = new Socks5ProxyHandler(proxyAddress, proxy.username(), proxy.password());
        } else {
            h = new HttpConnectHandler(proxyAddress, auth, proxy.masked());
        }
        h.setConnectTimeoutMillis(Math.max(1, timeoutMillis));
        return h;
    }

    private void startTls(Channel ch, Target t, Promise<Channel> ready) {
        UpstreamSettings u = t.upstream();
        if (!u.isTls()) {
            ready(ch, ready);
            return;
        }
        Deadline.Limit tlsLimit = t.deadline().limitFor(t.timeouts().tlsHandshake(), "timeouts.tls_handshake");
        // A WebSocket (alwaysTunnel) needs HTTP/1.1's Upgrade: never offered h2.
        SslContext ctx = u.offersHttp2() && !t.alwaysTunnel() && h2SslContext != null ? h2SslContext : sslContext;
        SslHandler ssl = ctx.newHandler(ch.alloc(), u.host(), u.port());
        ssl.setHandshakeTimeoutMillis(Math.max(1, tlsLimit.nanos() / 1_000_000));
        ch.pipeline().addBefore(HandlerNames.CLIENT_CODEC, HandlerNames.TLS, ssl);
        ssl.handshakeFuture().addListener(hs -> {
            if (hs.isSuccess() && H2Connection.negotiated(ssl)) {
                // h2 by ALPN: the HTTP/2 codec goes in before any byte after the handshake is read.
                H2Connection.install(ch, Math.max(1, tlsLimit.nanos() / 1_000_000), u.name()).addListener(s -> {
                    if (s.isSuccess()) ready(ch, ready);
                    else ready.tryFailure(UpstreamFailures.unexpected(s.cause()));
                });
            } else if (hs.isSuccess()) {
                ready(ch, ready);
            } else {
                ch.close();
                ready.tryFailure(UpstreamFailures.tls(hs.cause(), t, tlsLimit));
            }
        });
    }

    private static void ready(Channel ch, Promise<Channel> ready) {
        if (ch.pipeline().get(CONNECT_SINK) != null) ch.pipeline().remove(CONNECT_SINK);
        if (!ready.trySuccess(ch)) ch.close();
    }

    /** Until the connection is ready, failures arrive through the connect, proxy and handshake futures; swallow the echo. */
    @io.netty.channel.ChannelHandler.Sharable
    private static final class ConnectPhaseSink extends io.netty.channel.ChannelInboundHandlerAdapter {
        static final ConnectPhaseSink INSTANCE = new ConnectPhaseSink();

        @Override
        public void exceptionCaught(io.netty.channel.ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}
