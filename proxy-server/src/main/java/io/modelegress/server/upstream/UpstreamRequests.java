package io.modelegress.server.upstream;

import io.modelegress.core.config.RouteTarget;
import io.modelegress.core.config.UpstreamSettings;
import io.modelegress.core.route.RequestBodies;
import io.modelegress.core.route.Router;
import io.modelegress.server.http.ErrorResponses;
import io.modelegress.server.http.RequestHeaderFilter;
import io.modelegress.server.http.RequestContext;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufInputStream;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpVersion;

/**
 * Builds the request an upstream receives from the agent's: path mapped, hop-by-hop and the agent's credentials gone
 * ({@link RequestHeaderFilter}: the agent's headers copied in one pass), our credential injected.
 */
final class UpstreamRequests {
    private UpstreamRequests() {}

    static FullHttpRequest build(FullHttpRequest in, RequestContext rc, UpstreamConnector.Target t, RouteTarget target) {
        UpstreamSettings u = t.upstream();
        String path = Router.upstreamPath(rc.route, u.basePath(), in.uri());
        String uri = t.absoluteForm() ? u.url().getScheme() + "://" + u.authority() + path : path;
        ByteBuf body = in.content().retainedDuplicate();
        if (target.model() != null && body.isReadable()) {
            byte[] rewritten = RequestBodies.withModel(new ByteBufInputStream(body.duplicate()), target.model());
            if (rewritten != null) {
                body.release();
                body = Unpooled.wrappedBuffer(rewritten);
            }
        }
        // Filtered before anything of ours is set, so a route listing host or x-request-id cannot remove ours; the
        // agent's x-egress-* instructions to us and (when we inject ours) its credentials go too. Trailers of a held
        // body are almost always none: no copy then.
        HttpHeaders h = RequestHeaderFilter.forUpstream(in.headers(), rc.route.stripRequestHeaders(), u.auth() != null);
        HttpHeaders trailers = in.trailingHeaders().isEmpty() ? EmptyHttpHeaders.INSTANCE : in.trailingHeaders().copy();
        FullHttpRequest out = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, in.method(), uri, body, h, trailers);
        h.set(HttpHeaderNames.HOST, u.authority());
        StreamingRequests.preferIdentity(h, body);
        if (u.auth() != null) h.set(u.auth().header(), u.auth().value().current().value());
        if (t.absoluteForm() && t.proxy().username() != null) {
            h.set(HttpHeaderNames.PROXY_AUTHORIZATION, t.proxy().basicAuth());
        }
        h.set(ErrorResponses.X_REQUEST_ID, rc.requestId);
        h.setInt(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes());
        if (!body.isReadable() && (in.method().name().equals("GET") || in.method().name().equals("HEAD"))) {
            h.remove(HttpHeaderNames.CONTENT_LENGTH);
        }
        return out;
    }
}
