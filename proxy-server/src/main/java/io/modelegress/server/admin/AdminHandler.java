package io.modelegress.server.admin;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.modelegress.core.config.ConfigView;
import io.modelegress.server.runtime.EgressRuntime;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/** The admin port: /metrics, /healthz, /readyz, /config and the /debug endpoints. Separate from agent traffic. */
public final class AdminHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
    /** Loaded on the first JSON answer, not with the first probe: Jackson costs a few hundred ms to start. */
    private static final class Json {
        static final ObjectMapper MAPPER = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    }

    private final Supplier<EgressRuntime> runtime;
    private final BooleanSupplier ready;
    private final Map<String, AdminEndpoint> extra;

    /** A further endpoint (explain-proxy, doctor) answering with a status and a JSON-able value. */
    public interface AdminEndpoint {
        Object answer(QueryStringDecoder query) throws Exception;
    }

    public AdminHandler(Supplier<EgressRuntime> runtime, BooleanSupplier ready, Map<String, AdminEndpoint> extra) {
        this.runtime = runtime;
        this.ready = ready;
        this.extra = extra;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) throws Exception {
        QueryStringDecoder q = new QueryStringDecoder(req.uri());
        EgressRuntime rt = runtime.get();
        FullHttpResponse resp;
        switch (q.path()) {
            case "/metrics":
                resp = text(HttpResponseStatus.OK, rt.metrics().scrape(), "text/plain; version=0.0.4; charset=utf-8");
                break;
            case "/healthz":
                resp = text(HttpResponseStatus.OK, "ok\n", "text/plain");
                break;
            case "/readyz":
                resp = ready.getAsBoolean() ? text(HttpResponseStatus.OK, "ready\n", "text/plain")
                        : text(HttpResponseStatus.SERVICE_UNAVAILABLE, "not ready\n", "text/plain");
                break;
            case "/config":
                resp = json(HttpResponseStatus.OK, ConfigView.of(rt.config(), rt.proxies()::mask));
                break;
            default:
                AdminEndpoint e = extra.get(q.path());
                if (e == null) {
                    resp = json(HttpResponseStatus.NOT_FOUND, Map.of("error", "no such admin endpoint",
                            "endpoints", new String[] {"/metrics", "/healthz", "/readyz", "/config", "/debug/proxy?url=", "/debug/doctor", "/debug/breakers"}));
                } else {
                    Object answer;
                    try {
                        answer = e.answer(q);
                    } catch (IllegalArgumentException bad) {
                        answer = null;
                        resp = json(HttpResponseStatus.BAD_REQUEST, Map.of("error", bad.getMessage()));
                        write(ctx, req, resp);
                        return;
                    }
                    if (answer instanceof java.util.concurrent.CompletionStage) {
                        // Slow endpoints (doctor) run off the event loop and answer when done.
                        boolean keepAlive = HttpUtil.isKeepAlive(req);
                        ((java.util.concurrent.CompletionStage<?>) answer).whenComplete((value, err) -> {
                            FullHttpResponse r;
                            try {
                                r = err != null ? json(HttpResponseStatus.INTERNAL_SERVER_ERROR, Map.of("error", String.valueOf(err)))
                                        : json(HttpResponseStatus.OK, value);
                            } catch (Exception ex) {
                                r = text(HttpResponseStatus.INTERNAL_SERVER_ERROR, ex.toString(), "text/plain");
                            }
                            HttpUtil.setKeepAlive(r, keepAlive);
                            var f = ctx.writeAndFlush(r);
                            if (!keepAlive) f.addListener(ChannelFutureListener.CLOSE);
                        });
                        return;
                    }
                    resp = json(HttpResponseStatus.OK, answer);
                }
        }
        write(ctx, req, resp);
    }

    private static void write(ChannelHandlerContext ctx, FullHttpRequest req, FullHttpResponse resp) {
        boolean keepAlive = HttpUtil.isKeepAlive(req);
        HttpUtil.setKeepAlive(resp, keepAlive);
        var f = ctx.writeAndFlush(resp);
        if (!keepAlive) f.addListener(ChannelFutureListener.CLOSE);
    }

    private static FullHttpResponse text(HttpResponseStatus status, String body, String type) {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.wrappedBuffer(b));
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, type).setInt(HttpHeaderNames.CONTENT_LENGTH, b.length);
        return r;
    }

    private static FullHttpResponse json(HttpResponseStatus status, Object value) throws Exception {
        return text(status, Json.MAPPER.writeValueAsString(value) + "\n", "application/json");
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close();
    }
}
