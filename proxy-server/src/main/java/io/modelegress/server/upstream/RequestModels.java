package io.modelegress.server.upstream;

import io.modelegress.core.config.RouteTarget;
import io.modelegress.core.route.RequestBodies;
import io.modelegress.server.http.RequestContext;
import io.netty.buffer.ByteBufInputStream;
import io.netty.handler.codec.http.FullHttpRequest;
import java.util.function.Supplier;

/**
 * The model a request asks one route target for, for the per-model breakers: the target's own {@code model} when it
 * rewrites it, else the body's top-level "model", parsed at most once per request and only when a breaker asks.
 */
final class RequestModels {
    private RequestModels() {}

    static Supplier<String> of(FullHttpRequest request, RequestContext rc, RouteTarget target) {
        if (target.model() != null) return target::model;
        return () -> {
            if (!rc.bodyModelRead) {
                if (request.refCnt() == 0) return null; // the exchange is over and let the body go
                rc.bodyModelRead = true;
                rc.bodyModel = request.content().isReadable()
                        ? RequestBodies.topLevelString(new ByteBufInputStream(request.content().duplicate()), "model") : null;
            }
            return rc.bodyModel;
        };
    }
}
