package io.modelegress.server.upstream;

import io.modelegress.core.ratelimit.TokenCount;
import io.modelegress.core.ratelimit.TokenEstimator;
import io.netty.buffer.ByteBufInputStream;
import io.netty.handler.codec.http.FullHttpRequest;
import java.util.function.Function;

/**
 * The agent request's token estimate for the upstreams that count tokens: made once, the first time an attempt on
 * such an upstream asks, and shared by every attempt of the exchange (zero for an upstream that does not count).
 */
final class RequestTokens implements Function<UpstreamState, TokenCount> {
    private final FullHttpRequest request;
    /** A streamed upload counts as a request, not tokens: its body is not held to be estimated. */
    private final boolean streamed;
    private TokenCount tokens;

    RequestTokens(FullHttpRequest request, boolean streamed) {
        this.request = request;
        this.streamed = streamed;
    }

    @Override
    public TokenCount apply(UpstreamState s) {
        if (!s.countsTokens || streamed) return TokenCount.ZERO;
        if (tokens == null) tokens = new TokenEstimator().estimate(new ByteBufInputStream(request.content().duplicate()));
        return tokens;
    }
}
