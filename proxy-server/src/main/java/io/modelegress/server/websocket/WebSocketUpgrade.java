package io.modelegress.server.websocket;

import io.modelegress.core.config.UpstreamSettings;
import io.modelegress.core.route.AgentHeaders;
import io.modelegress.core.route.Router;
import io.modelegress.server.http.ErrorResponses;
import io.modelegress.server.http.HopByHop;
import io.modelegress.server.http.RequestContext;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;

/**
 * What an agent's WebSocket upgrade (RFC 6455 section 4.1) is and what the upstream receives of it: the same request
 * with the path mapped, hop-by-hop headers, the agent's credentials and the WebSocket keys of its own hop gone, and
 * our credential injected. The handshake keys themselves are made per hop by Netty's handshakers.
 */
public final class WebSocketUpgrade {
    /** OpenAI's browser form of a key, sent as a subprotocol: never forwarded where we inject the real one. */
    static final String OPENAI_KEY_PROTOCOL = "openai-insecure-api-key.";

    private WebSocketUpgrade() {}

    /** True for a request asking to become a WebSocket ({@code Upgrade: websocket}); other upgrades stay plain HTTP. */
    public static boolean requested(HttpRequest req) {
        if (!req.headers().contains(HttpHeaderNames.UPGRADE)) return false; // every request asks: no list, no split
        for (String v : req.headers().getAll(HttpHeaderNames.UPGRADE)) {
            for (String token : v.split(",")) if (token.trim().equalsIgnoreCase("websocket")) return true;
        }
        return false;
    }

    /** Why {@code req} is not a valid version-13 upgrade, or null when it is. */
    static String invalid(HttpRequest req) {
        if (req.method() != HttpMethod.GET) return "a WebSocket upgrade must be a GET, not " + req.method();
        if (!req.headers().containsValue(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE, true)) {
            return "a WebSocket upgrade needs \"Connection: Upgrade\"";
        }
        String key = req.headers().get(HttpHeaderNames.SEC_WEBSOCKET_KEY);
        if (key == null || key.isBlank()) return "a WebSocket upgrade needs a Sec-WebSocket-Key";
        if (!"13".equals(req.headers().get(HttpHeaderNames.SEC_WEBSOCKET_VERSION))) {
            return "only WebSocket version 13 is supported (Sec-WebSocket-Version: "
                    + req.headers().get(HttpHeaderNames.SEC_WEBSOCKET_VERSION) + ")";
        }
        return null;
    }

    /** ws:// or wss:// with the upstream's authority and the path the route maps the agent's to. */
    static URI upstreamUri(RequestContext rc, UpstreamSettings u, String agentUri) {
        return URI.create((u.isTls() ? "wss://" : "ws://") + u.authority() + Router.upstreamPath(rc.route, u.basePath(), agentUri));
    }

    /** The headers the upstream's handshake carries beside its own Upgrade, Connection and Sec-WebSocket-* keys. */
    static HttpHeaders upstreamHeaders(HttpRequest in, RequestContext rc, UpstreamSettings u) {
        HttpHeaders h = in.headers().copy();
        HopByHop.strip(h);
        for (String name : AgentHeaders.ALWAYS) h.remove(name);
        for (String name : rc.route.stripRequestHeaders()) h.remove(name);
        h.remove(HttpHeaderNames.HOST).remove(HttpHeaderNames.EXPECT).remove(HttpHeaderNames.CONTENT_LENGTH);
        // Each hop negotiates its own key, version, subprotocol and (no) extensions.
        HopByHop.removePrefixed(h, "sec-websocket-");
        HopByHop.removePrefixed(h, ErrorResponses.X_EGRESS_PREFIX);
        h.set(HttpHeaderNames.HOST, u.authority());
        if (u.auth() != null) {
            for (String name : AgentHeaders.CREDENTIALS) h.remove(name);
            h.set(u.auth().header(), u.auth().value().current().value());
        }
        h.set(ErrorResponses.X_REQUEST_ID, rc.requestId);
        return h;
    }

    /**
     * The subprotocols the agent offered, comma-separated as the client handshaker takes them (null: none); with
     * our credential injected, an OpenAI key offered as a subprotocol is left out.
     */
    static String subprotocols(HttpRequest in, UpstreamSettings u) {
        List<String> out = new ArrayList<>();
        for (String v : in.headers().getAll(HttpHeaderNames.SEC_WEBSOCKET_PROTOCOL)) {
            for (String p : v.split(",")) {
                String t = p.trim();
                if (t.isEmpty() || u.auth() != null && t.startsWith(OPENAI_KEY_PROTOCOL)) continue;
                out.add(t);
            }
        }
        return out.isEmpty() ? null : String.join(",", out);
    }
}
