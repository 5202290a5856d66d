package io.modelegress.server.upstream;

import io.modelegress.core.error.EgressException;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.proxy.ProxyHandler;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * HTTP CONNECT with every proxy authentication scheme the sidecar speaks, on one connection: the proxy's 407 and
 * the next CONNECT (NTLM's three messages, Negotiate after an offer) stay on the same socket, as connection-bound
 * schemes require. {@link ProxyAuthenticator} decides what each CONNECT carries; work it hands back as a future
 * (GSS calls, on their own pool) resumes here on the event loop through {@link #channelRead} with a {@link Resume}.
 */
final class HttpConnectHandler extends ProxyHandler {
    private final ProxyAuthenticator auth;
    private final HttpClientCodec codec = new HttpClientCodec();
    private final String context;
    private HttpResponse head;
    private ChannelHandlerContext ctx;

    /** An answer computed off the event loop, fed back in as a read so ProxyHandler's bookkeeping stays in charge. */
    private record Resume(String header, Throwable failure, boolean verified) {}

    HttpConnectHandler(SocketAddress proxyAddress, ProxyAuthenticator auth, String context) {
        super(proxyAddress);
        this.auth = auth;
        this.context = context;
    }

    @Override
    public String protocol() { return "http"; }

    @Override
    public String authScheme() { return auth.used(); }

    @Override
    protected void addCodec(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        ctx.pipeline().addBefore(ctx.name(), null, codec);
    }

    @Override
    protected void removeEncoder(ChannelHandlerContext ctx) { codec.removeOutboundHandler(); }

    @Override
    protected void removeDecoder(ChannelHandlerContext ctx) { codec.removeInboundHandler(); }

    @Override
    protected Object newInitialMessage(ChannelHandlerContext ctx) {
        return connect(auth.firstHeader());
    }

    private FullHttpRequest connect(String authorization) {
        InetSocketAddress raddr = destinationAddress();
        String url = HttpUtil.formatHostnameForHttp(raddr) + ":" + raddr.getPort();
        FullHttpRequest req = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.CONNECT, url, Unpooled.EMPTY_BUFFER, false);
        req.headers().set(HttpHeaderNames.HOST, url);
        req.headers().set(HttpHeaderNames.PROXY_CONNECTION, HttpHeaderValues.KEEP_ALIVE); // NTLM needs the socket kept
        if (authorization != null) req.headers().set(HttpHeaderNames.PROXY_AUTHORIZATION, authorization);
        return req;
    }

    @Override
    protected boolean handleResponse(ChannelHandlerContext ctx, Object msg) throws Exception {
        if (msg instanceof Resume r) return resumed(r);
        if (msg instanceof HttpResponse res) {
            if (head != null) throw new ProxyStatusException(exceptionMessage("too many responses"), 502, "", List.of(), true);
            head = res;
        }
        if (!(msg instanceof LastHttpContent)) return false;
        if (head == null) throw new ProxyStatusException(exceptionMessage("no response"), 502, "", List.of(), true);
        HttpResponse res = head;
        head = null;
        HttpHeaders h = res.headers();
        List<String> offers = h.getAll(HttpHeaderNames.PROXY_AUTHENTICATE);
        int status = res.status().code();
        if (status == 200) {
            CompletableFuture<Void> verify = auth.on200(offers);
            if (verify == null) return true;
            continueWith(verify.thenApply(v -> (String) null), true);
            return false;
        }
        if (status != 407) {
            throw new ProxyStatusException(exceptionMessage(""), status, res.status().reasonPhrase(), offers, closing(res));
        }
        ProxyAuthenticator.Next next = auth.on407(offers, closing(res), exceptionMessage(""));
        if (next.header() != null) {
            sendToProxyServer(connect(next.header()));
        } else {
            continueWith(next.pending(), false);
        }
        return false;
    }

    private boolean resumed(Resume r) throws Exception {
        if (r.failure() != null) {
            Throwable c = r.failure() instanceof java.util.concurrent.CompletionException && r.failure().getCause() != null
                    ? r.failure().getCause() : r.failure();
            if (c instanceof Exception e) throw e;
            throw new IllegalStateException(c);
        }
        if (r.verified()) return true;
        sendToProxyServer(connect(r.header()));
        return false;
    }

    /** Resumes on the event loop when {@code f} completes (it runs on the GSS pool). */
    private void continueWith(CompletableFuture<String> f, boolean verification) {
        ChannelHandlerContext c = ctx;
        f.whenComplete((header, err) -> c.executor().execute(() -> {
            if (connectFuture().isDone() || !c.channel().isActive()) return;
            try {
                channelRead(c, new Resume(header, err, verification && err == null));
            } catch (Exception e) {
                c.fireExceptionCaught(e);
            }
        }));
    }

    private static boolean closing(HttpResponse res) {
        HttpHeaders h = res.headers();
        return h.containsValue(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE, true)
                || h.containsValue(HttpHeaderNames.PROXY_CONNECTION, HttpHeaderValues.CLOSE, true)
                || (res.protocolVersion().equals(HttpVersion.HTTP_1_0)
                    && !h.containsValue(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE, true)
                    && !h.containsValue(HttpHeaderNames.PROXY_CONNECTION, HttpHeaderValues.KEEP_ALIVE, true));
    }

    String context() { return context; }

    /** For the error classifier: an auth failure already classified by the authenticator. */
    static boolean isClassified(Throwable t) { return t instanceof EgressException; }
}
