package io.modelegress.server.upstream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.modelegress.core.config.EgressConfig;
import io.modelegress.core.config.RouteSettings;
import io.modelegress.core.config.UpstreamSettings;
import io.modelegress.core.route.AgentHeaders;
import io.modelegress.server.http.ErrorResponses;
import io.modelegress.server.http.HopByHop;
import io.modelegress.server.http.RequestContext;
import io.modelegress.server.testing.TestConfig;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

/**
 * The request an upstream receives (issue 20: its headers are now filtered in one pass instead of copied whole and
 * then stripped name by name). Each shape must come out exactly as the copy-and-strip did, names, values and order;
 * and the build of an ordinary SDK request must stay within its allocation budget.
 */
class UpstreamRequestsTest {
    private static final String BODY = "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";

    static Stream<Arguments> shapes() {
        return Stream.of(
                Arguments.of("sdk", false, List.of(
                        "Host", "127.0.0.1:8080", "Accept", "application/json", "Content-Type", "application/json",
                        "User-Agent", "OpenAI/Python 1.51.0", "X-Stainless-Lang", "python", "Authorization", "Bearer sk-agent",
                        "Content-Length", "71", "Connection", "keep-alive", "x-request-id", "abc")),
                Arguments.of("sdk, credential injected", true, List.of(
                        "host", "x", "authorization", "Bearer sk-agent", "x-api-key", "k", "Api-Key", "k2",
                        "x-goog-api-key", "g", "accept", "*/*", "x-request-id", "abc")),
                Arguments.of("hop-by-hop named by Connection, Proxy-*, TE, Upgrade", false, List.of(
                        "Connection", "keep-alive, X-Hop-One,x-hop-two", "x-hop-one", "1", "X-HOP-TWO", "2",
                        "Keep-Alive", "timeout=5", "Proxy-Authorization", "Basic p", "proxy-x-trace", "t", "proxy-", "bare",
                        "TE", "trailers", "Trailer", "x", "Upgrade", "h2c", "Transfer-Encoding", "identity",
                        "Proxy-Connection", "keep-alive", "accept", "*/*", "x-request-id", "abc")),
                Arguments.of("our own instructions, cookies, Expect, the route's list", false, List.of(
                        "X-Egress-Timeout", "5s", "x-egress-", "bare", "Cookie", "a=b", "Expect", "100-continue",
                        "X-Drop-Me", "1", "x-drop-me", "2", "x-keep-me", "3", "Accept", "*/*", "accept", "again",
                        "x-request-id", "abc")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("shapes")
    void sendsTheSameHeadersAsCopyingAllAndStrippingEach(String shape, boolean inject, List<String> pairs) throws Exception {
        EgressConfig config = config(inject);
        FullHttpRequest in = request(pairs);
        RequestContext rc = context(config);
        UpstreamSettings u = config.upstreams().get("up");
        FullHttpRequest out = UpstreamRequests.build(in, rc, new UpstreamConnector.Target(u, null, config.timeouts(), rc.deadline), rc.route.upstreams().get(0));
        try {
            assertEquals(entries(reference(in.headers(), rc.route, u)), entries(out.headers()), shape);
            assertTrue(out.trailingHeaders().isEmpty());
            assertEquals(BODY, out.content().toString(StandardCharsets.UTF_8));
        } finally {
            out.release();
            in.release();
        }
    }

    /**
     * Bytes allocated per build of an SDK request, the event loop's own counter (noise on the machine does not
     * change it). Copying every header and then removing fifteen names took 1,560 bytes here; the one-pass filter 1,184.
     */
    @Test
    void anOrdinaryRequestIsBuiltWithinItsAllocationBudget() throws Exception {
        EgressConfig config = config(true);
        FullHttpRequest in = request(List.of(
                "Host", "127.0.0.1:8080", "Accept", "application/json", "Content-Type", "application/json",
                "User-Agent", "OpenAI/Python 1.51.0", "X-Stainless-Lang", "python", "X-Stainless-Package-Version", "1.51.0",
                "X-Stainless-Os", "Linux", "X-Stainless-Arch", "x64", "X-Stainless-Runtime", "CPython",
                "X-Stainless-Retry-Count", "0", "Authorization", "Bearer sk-agent", "Content-Length", "71",
                "Connection", "keep-alive", "x-request-id", "0123456789abcdef0123456789abcdef"));
        RequestContext rc = context(config);
        UpstreamSettings u = config.upstreams().get("up");
        UpstreamConnector.Target t = new UpstreamConnector.Target(u, null, config.timeouts(), rc.deadline);
        var target = rc.route.upstreams().get(0);
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long tid = Thread.currentThread().getId();
        for (int i = 0; i < 20_000; i++) UpstreamRequests.build(in, rc, t, target).release(); // past the JIT
        int n = 10_000;
        long before = mx.getThreadAllocatedBytes(tid);
        for (int i = 0; i < n; i++) UpstreamRequests.build(in, rc, t, target).release();
        long perBuild = (mx.getThreadAllocatedBytes(tid) - before) / n;
        in.release();
        assertTrue(perBuild <= 1_300, "UpstreamRequests.build allocated " + perBuild + " bytes per request");
    }

    /** Names copied from the agent are not checked again (the decoder did), but every value set upstream still is. */
    @Test
    void aValueThatWouldSplitAHeaderIsStillRefused() {
        HttpHeaders h = io.modelegress.server.http.RequestHeaderFilter.forUpstream(
                new io.netty.handler.codec.http.DefaultHttpHeaders().add("accept", "*/*"), List.of(), true);
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> h.set("authorization", "Bearer sk\r\nx-injected: 1"));
    }

    /** What build did before issue 20: copy every header, then remove each name that must not go upstream. */
    private static HttpHeaders reference(HttpHeaders agent, RouteSettings route, UpstreamSettings u) {
        HttpHeaders h = agent.copy();
        HopByHop.strip(h);
        for (String name : AgentHeaders.ALWAYS) h.remove(name);
        for (String name : route.stripRequestHeaders()) h.remove(name);
        h.remove(HttpHeaderNames.HOST).remove(HttpHeaderNames.EXPECT);
        HopByHop.removePrefixed(h, ErrorResponses.X_EGRESS_PREFIX);
        h.set(HttpHeaderNames.HOST, u.authority());
        if (u.auth() != null) {
            for (String name : AgentHeaders.CREDENTIALS) h.remove(name);
            h.set(u.auth().header(), u.auth().value().current().value());
        }
        h.set(ErrorResponses.X_REQUEST_ID, "abc");
        h.setInt(HttpHeaderNames.CONTENT_LENGTH, BODY.length());
        return h;
    }

    private static List<String> entries(HttpHeaders h) {
        List<String> out = new ArrayList<>();
        for (Map.Entry<String, String> e : h) out.add(e.getKey() + ": " + e.getValue());
        return out;
    }

    private static EgressConfig config(boolean inject) throws Exception {
        return TestConfig.config()
                .upstream("up", "http://127.0.0.1:9", u -> { if (inject) u.auth("authorization", "Bearer sk-ours"); })
                .route("r", "/v1", r -> r.upstreams("up").set("strip_request_headers", List.of("x-drop-me")))
                .load(Map.of());
    }

    private static RequestContext context(EgressConfig config) {
        RequestContext rc = new RequestContext("abc", "POST", "/v1/chat/completions", System.nanoTime());
        rc.route = config.routes().get(0);
        rc.deadline = new io.modelegress.core.timeout.Deadline(io.modelegress.core.time.Ticker.SYSTEM, java.time.Duration.ofSeconds(30), "timeouts.request");
        return rc;
    }

    private static FullHttpRequest request(List<String> pairs) {
        FullHttpRequest r = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/v1/chat/completions",
                Unpooled.copiedBuffer(BODY, StandardCharsets.UTF_8));
        for (int i = 0; i < pairs.size(); i += 2) r.headers().add(pairs.get(i), pairs.get(i + 1));
        return r;
    }
}
