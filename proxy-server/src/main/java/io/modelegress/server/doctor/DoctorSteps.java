package io.modelegress.server.doctor;

import io.modelegress.core.config.Timeouts;
import io.modelegress.core.config.UpstreamSettings;
import io.modelegress.core.error.EgressException;
import io.modelegress.core.time.Durations;
import io.modelegress.core.timeout.Deadline;
import io.modelegress.server.doctor.DoctorReport.Status;
import io.modelegress.server.doctor.DoctorReport.UpstreamCheck;
import io.modelegress.server.runtime.Transport;
import io.modelegress.server.upstream.Dns;
import io.modelegress.server.upstream.ProxyHop;
import io.modelegress.server.upstream.UpstreamConnector;
import io.modelegress.server.upstream.UpstreamFailures;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.proxy.Socks5ProxyHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.resolver.NoopAddressResolverGroup;
import io.netty.util.concurrent.Future;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** The individual doctor steps; each records its result on the check and returns null/false when the path ends. */
final class DoctorSteps {
    private static final Duration PROBE_CAP = Duration.ofSeconds(30);

    private final UpstreamCheck c;
    private final UpstreamConnector.Target t;
    private final Transport transport;
    private final EventLoop loop;
    private final SslContext ssl;

    DoctorSteps(UpstreamCheck c, UpstreamConnector.Target t, Transport transport, EventLoop loop, SslContext ssl) {
        this.c = c;
        this.t = t;
        this.transport = transport;
        this.loop = loop;
        this.ssl = ssl;
    }

    InetAddress dns(Dns dns, String host, Timeouts to) {
        long t0 = System.nanoTime();
        Future<InetAddress> f = dns.resolve(loop, host, to.dns().toNanos(), "timeouts.dns", to.dns());
        f.awaitUninterruptibly(to.dns().toMillis() + 1000);
        if (!f.isSuccess()) return fail("dns", t0, f.cause());
        c.add("dns", Status.OK, ms(t0), host + " -> " + f.getNow().getHostAddress());
        return f.getNow();
    }

    Channel tcp(InetAddress addr, int port, Timeouts to) {
        long t0 = System.nanoTime();
        InetSocketAddress remote = new InetSocketAddress(addr, port);
        ChannelFuture f = bootstrap(to.connect(), null).connect(remote);
        f.awaitUninterruptibly(to.connect().toMillis() + 1000);
        if (!f.isSuccess()) {
            f.channel().close();
            Deadline.Limit l = new Deadline.Limit(to.connect().toNanos(), "timeouts.connect", to.connect());
            return fail("tcp", t0, UpstreamFailures.connect(f.cause(), t, remote, l));
        }
        c.add("tcp", Status.OK, ms(t0), "connected to " + addr.getHostAddress() + ":" + port
                + (t.proxy() != null ? " (the proxy)" : ""));
        return f.channel();
    }

    /** TLS to an https proxy, then CONNECT (HTTP proxies, https upstreams) or the SOCKS5 handshake. */
    Channel proxyHandshake(Channel ch, InetAddress proxyAddr, Timeouts to) {
        ProxyHop hop = t.proxy();
        UpstreamSettings u = t.upstream();
        Deadline.Limit l = new Deadline.Limit(to.proxyConnect().toNanos(), "timeouts.proxy_connect", to.proxyConnect());
        long t0 = System.nanoTime();
        if (hop.isSocks()) {
            ch.close();
            Socks5ProxyHandler socks = new Socks5ProxyHandler(new InetSocketAddress(proxyAddr, hop.port()), hop.username(), hop.password());
            socks.setConnectTimeoutMillis(to.proxyConnect().toMillis());
            ChannelFuture f = bootstrap(to.connect(), socks).connect(InetSocketAddress.createUnresolved(u.host(), u.port()));
            f.awaitUninterruptibly(to.connect().toMillis() + 1000);
            Future<Channel> hs = socks.connectFuture();
            hs.awaitUninterruptibly(to.proxyConnect().toMillis() + 1000);
            if (!f.isSuccess() || !hs.isSuccess()) {
                f.channel().close();
                return fail("socks", t0, UpstreamFailures.proxy(f.isSuccess() ? hs.cause() : f.cause(), t, l));
            }
            c.add("socks", Status.OK, ms(t0), "SOCKS5 tunnel to " + u.host() + ":" + u.port());
            return f.channel();
        }
        if (hop.isTls() && !handshake(ch, "proxytls", hop.host(), hop.port(), to)) return null;
        if (!u.isTls()) {
            c.add("connect", Status.SKIP, 0, "plain http through an HTTP proxy: absolute-form requests, no tunnel");
            return ch;
        }
        t0 = System.nanoTime();
        FullHttpRequest req = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.CONNECT, u.host() + ":" + u.port());
        req.headers().set(HttpHeaderNames.HOST, u.host() + ":" + u.port());
        if (hop.username() != null) req.headers().set(HttpHeaderNames.PROXY_AUTHORIZATION, hop.basicAuth());
        HttpReply reply = exchange(ch, req, to.proxyConnect());
        if (reply == null) {
            return fail("connect", t0, new EgressException(io.modelegress.core.error.ErrorCode.PROXY_CONNECT_TIMEOUT,
                    "proxy " + hop.masked() + " did not answer CONNECT " + u.host() + ":" + u.port() + " within "
                            + Durations.format(to.proxyConnect()) + " (timeouts.proxy_connect)"));
        }
        if (reply.status / 100 != 2) {
            io.modelegress.core.error.ErrorCode code = reply.status == 407
                    ? io.modelegress.core.error.ErrorCode.PROXY_AUTH_REQUIRED : io.modelegress.core.error.ErrorCode.PROXY_REJECTED;
            String msg = reply.status == 407 ? "407 from " + hop.address() : "proxy " + hop.masked() + " refused CONNECT "
                    + u.host() + ":" + u.port() + ": " + reply.statusLine;
            return fail("connect", t0, new EgressException(code, msg));
        }
        ch.pipeline().remove(HttpObjectAggregator.class);
        ch.pipeline().remove(HttpClientCodec.class);
        c.add("connect", Status.OK, ms(t0), "CONNECT " + u.host() + ":" + u.port() + " -> " + reply.statusLine);
        return ch;
    }

    /**
     * DNS, TCP, CONNECT with the proxy's auth scheme (NTLM, Negotiate, auto) and TLS, as the request path does them;
     * records the scheme used. Blocking, with the sum of the phase limits as its cap.
     */
    Channel authenticatedTunnel(UpstreamConnector connector, io.modelegress.server.upstream.ProxyPlanner planner) {
        Timeouts to = t.timeouts();
        long t0 = System.nanoTime();
        long cap = to.dns().plus(to.connect()).plus(to.proxyConnect()).plus(to.tlsHandshake()).toMillis() + 5_000;
        Future<Channel> f = connector.connectOnce(loop, t);
        f.awaitUninterruptibly(cap);
        if (!f.isSuccess()) {
            if (!f.isDone()) f.cancel(false);
            return fail("connect", t0, f.cause() == null ? new EgressException(io.modelegress.core.error.ErrorCode.PROXY_CONNECT_TIMEOUT,
                    "no tunnel through " + t.proxy().masked() + " within " + cap + "ms") : f.cause());
        }
        Channel ch = f.getNow();
        String scheme = ch.attr(UpstreamConnector.PROXY_AUTH).get();
        String how = planner.authOf(t.proxy());
        c.add("connect", Status.OK, ms(t0), "CONNECT " + t.upstream().host() + ":" + t.upstream().port() + " through "
                + t.proxy().masked() + ", authenticated with " + scheme + (how != null && how.startsWith("auto") ? " (" + how + ")" : "")
                + (t.upstream().isTls() ? "; TLS verified" : ""));
        if (ch.pipeline().get(io.modelegress.server.http.HandlerNames.CLIENT_CODEC) != null) {
            ch.pipeline().remove(io.modelegress.server.http.HandlerNames.CLIENT_CODEC); // probe() brings its own codec
        }
        return ch;
    }

    boolean tls(Channel ch, Timeouts to) {
        return handshake(ch, "tls", t.upstream().host(), t.upstream().port(), to);
    }

    private boolean handshake(Channel ch, String step, String host, int port, Timeouts to) {
        long t0 = System.nanoTime();
        SslHandler h = ssl.newHandler(ch.alloc(), host, port);
        h.setHandshakeTimeoutMillis(to.tlsHandshake().toMillis());
        ch.pipeline().addFirst(h);
        Future<Channel> f = h.handshakeFuture();
        f.awaitUninterruptibly(to.tlsHandshake().toMillis() + 1000);
        if (!f.isSuccess()) {
            Deadline.Limit l = new Deadline.Limit(to.tlsHandshake().toNanos(), "timeouts.tls_handshake", to.tlsHandshake());
            fail(step, t0, UpstreamFailures.tls(f.cause() == null ? new javax.net.ssl.SSLException("no handshake") : f.cause(), t, l));
            return false;
        }
        String detail;
        try {
            X509Certificate cert = (X509Certificate) h.engine().getSession().getPeerCertificates()[0];
            detail = h.engine().getSession().getProtocol() + ", certificate " + cert.getSubjectX500Principal().getName()
                    + " issued by " + cert.getIssuerX500Principal().getName() + ", expires " + cert.getNotAfter().toInstant()
                    + "; verified (chain and host name)";
        } catch (Exception e) {
            detail = "handshake complete; verified";
        }
        c.add(step, Status.OK, ms(t0), detail);
        return true;
    }

    void probe(Channel ch, String credential, Timeouts to) {
        UpstreamSettings u = t.upstream();
        long t0 = System.nanoTime();
        String path = u.basePath() + u.probePath();
        boolean absolute = t.absoluteForm();
        FullHttpRequest req = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET,
                absolute ? u.url().getScheme() + "://" + u.authority() + path : path);
        req.headers().set(HttpHeaderNames.HOST, u.authority()).set(HttpHeaderNames.USER_AGENT, "model-egress-doctor")
                .set(HttpHeaderNames.ACCEPT, "application/json");
        if (credential != null) req.headers().set(u.auth().header(), credential);
        if (absolute && t.proxy().username() != null) req.headers().set(HttpHeaderNames.PROXY_AUTHORIZATION, t.proxy().basicAuth());
        Duration limit = to.responseHeaders().compareTo(PROBE_CAP) < 0 ? to.responseHeaders() : PROBE_CAP;
        HttpReply reply = exchange(ch, req, limit);
        String what = "GET " + path;
        if (reply == null) {
            c.add("http", Status.FAIL, ms(t0), what + ": no response within " + Durations.format(limit));
            c.hint = u.host() + " accepted the connection but did not answer " + what + "; check the upstream's health";
        } else if (reply.status / 100 == 2) {
            c.add("http", Status.OK, ms(t0), what + " -> " + reply.statusLine);
        } else if (reply.status == 401 || reply.status == 403) {
            c.add("http", Status.FAIL, ms(t0), what + " -> " + reply.statusLine + ": the network path works; the credential was refused");
            c.hint = reply.status + " from " + u.host() + ": the network works, the key does not; check the credential of upstream \""
                    + u.name() + "\"" + (u.auth() == null ? " (none is configured: set upstreams." + u.name() + ".auth)"
                    : " (" + u.auth().header() + " " + u.auth().value().describe() + ")");
        } else if (reply.status == 407) {
            c.add("http", Status.FAIL, ms(t0), what + " -> 407 from the proxy");
            c.hint = "407 from " + t.proxy().address() + ": set proxy credentials (proxy.http or HTTP_PROXY user:pass)";
        } else if (reply.status >= 500) {
            c.add("http", Status.FAIL, ms(t0), what + " -> " + reply.statusLine);
            c.hint = u.host() + " answered " + reply.statusLine + "; the upstream itself is failing";
        } else {
            c.add("http", Status.WARN, ms(t0), what + " -> " + reply.statusLine + ": the network path works"
                    + (reply.status == 404 ? "; set upstreams." + u.name() + ".probe to a path this upstream serves" : ""));
        }
    }

    private record HttpReply(int status, String statusLine) {}

    /** Sends one request over {@code ch} with a fresh codec and waits for the whole reply, at most {@code limit}. */
    private HttpReply exchange(Channel ch, FullHttpRequest req, Duration limit) {
        CompletableFuture<HttpReply> reply = new CompletableFuture<>();
        ch.pipeline().addLast(new HttpClientCodec(), new HttpObjectAggregator(1 << 20),
                new SimpleChannelInboundHandler<FullHttpResponse>() {
                    @Override
                    protected void channelRead0(ChannelHandlerContext ctx, FullHttpResponse r) {
                        reply.complete(new HttpReply(r.status().code(), r.status().toString()));
                    }

                    @Override
                    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                        reply.completeExceptionally(cause);
                    }

                    @Override
                    public void channelInactive(ChannelHandlerContext ctx) {
                        reply.completeExceptionally(new java.io.IOException("connection closed"));
                    }
                });
        ch.writeAndFlush(req);
        try {
            return reply.get(limit.toMillis(), TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            return null;
        }
    }

    private Bootstrap bootstrap(Duration connect, io.netty.channel.ChannelHandler first) {
        return new Bootstrap().group(loop).channel(transport.socketChannel())
                .resolver(NoopAddressResolverGroup.INSTANCE)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.max(1, connect.toMillis()))
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        if (first != null) ch.pipeline().addLast(first);
                        ch.pipeline().addLast(new io.netty.channel.ChannelInboundHandlerAdapter() {
                            @Override
                            public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                                ctx.fireExceptionCaught(cause);
                            }
                        });
                    }
                });
    }

    private <T> T fail(String step, long t0, Throwable cause) {
        EgressException e = cause instanceof EgressException ? (EgressException) cause
                : new EgressException(io.modelegress.core.error.ErrorCode.INTERNAL_ERROR, UpstreamFailures.simple(cause));
        c.add(step, Status.FAIL, ms(t0), "[" + e.code().code() + "] " + e.getMessage());
        c.hint = e.describe();
        return null;
    }

    private static long ms(long t0) { return (System.nanoTime() - t0) / 1_000_000; }

}
