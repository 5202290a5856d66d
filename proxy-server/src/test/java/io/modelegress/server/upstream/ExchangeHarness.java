package io.modelegress.server.upstream;

import io.modelegress.core.config.ConfigLoader;
import io.modelegress.core.config.EgressConfig;
import io.modelegress.core.config.RouteSettings;
import io.modelegress.core.time.Ticker;
import io.modelegress.core.timeout.RequestDeadlines;
import io.modelegress.server.events.ExchangeEvents;
import io.modelegress.server.events.RequestOutcome;
import io.modelegress.server.http.BodyBudget;
import io.modelegress.server.http.RequestContext;
import io.modelegress.server.metrics.EgressMetrics;
import io.modelegress.server.http.HandlerNames;
import io.modelegress.server.runtime.EgressRuntime;
import io.modelegress.server.runtime.Transport;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoop;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.netty.util.concurrent.Promise;
import java.net.ConnectException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * An exchange on EmbeddedChannels with a frozen clock: the agent side is one channel (what the sidecar writes to
 * it is read back as HTTP objects), each upstream connection is another (with the real client codec, so the test
 * writes the upstream's bytes and reads the request's). Time moves only when the test says so, and the deadline,
 * the phase timers, retries and the limiter all read that one clock.
 */
final class ExchangeHarness implements AutoCloseable {
    enum Connect { OPEN, HOLD, REFUSE }

    final EmbeddedChannel down;
    final EgressRuntime rt;
    /** The life of each request, one word per event, in order. */
    final List<String> events = new ArrayList<>();
    /** Upstream connections opened so far, oldest first. */
    final Deque<EmbeddedChannel> upstreams = new ArrayDeque<>();
    final Deque<Promise<Channel>> heldConnects = new ArrayDeque<>();
    Connect connect = Connect.OPEN;
    private ChannelHandlerContext downCtx;
    private final BodyBudget bodies = new BodyBudget(1L << 30);
    int ended;

    ExchangeHarness(String yaml) throws Exception {
        down = new EmbeddedChannel(new ChannelInboundHandlerAdapter() {
            @Override
            public void handlerAdded(ChannelHandlerContext ctx) { downCtx = ctx; }
        });
        down.freezeTime();
        Ticker clock = new Ticker() {
            @Override public long nanos() { return down.eventLoop().ticker().nanoTime(); }
            @Override public long wallMillis() { return TimeUnit.NANOSECONDS.toMillis(nanos()); }
        };
        EgressConfig cfg = ConfigLoader.parse(yaml, "harness.yaml", Map.<String, String>of()::get);
        rt = new EgressRuntime(cfg, Map.of(), Transport.best(), new EgressMetrics(), clock, down.eventLoop(),
                new DefaultChannelGroup(GlobalEventExecutor.INSTANCE), bodies, null, this::open, recorder());
    }

    /** The connector: a new EmbeddedChannel per connection, opened at once, held open, or refused. */
    private Future<Channel> open(EventLoop loop, UpstreamConnector.Target t) {
        if (connect == Connect.REFUSE) {
            return loop.newFailedFuture(UpstreamFailures.connect(new ConnectException("Connection refused"), t,
                    java.net.InetSocketAddress.createUnresolved(t.upstream().host(), t.upstream().port()), null));
        }
        EmbeddedChannel up = new EmbeddedChannel();
        up.freezeTime();
        up.pipeline().addLast(HandlerNames.CLIENT_CODEC, new HttpClientCodec());
        upstreams.add(up);
        if (connect == Connect.HOLD) {
            Promise<Channel> p = loop.newPromise();
            heldConnects.add(p);
            return p;
        }
        return loop.newSucceededFuture(up);
    }

    private ExchangeEvents recorder() {
        return new ExchangeEvents() {
            @Override public void admitted(RequestContext rc, String u, long q) { events.add("admitted"); }
            @Override public void attemptStart(RequestContext rc, String u, int n) { events.add("attempt " + n + " " + u); }
            @Override public void connectStart(RequestContext rc, String u) { events.add("connect"); }
            @Override public void connectEnd(RequestContext rc, String u, long n) { events.add("connected"); }
            @Override public void responseHeaders(RequestContext rc, String u, int s) { events.add("headers " + s); }
            @Override public void firstByte(RequestContext rc, String u) { events.add("committed"); }
            @Override public void attemptEnd(RequestContext rc, String u, String r) { events.add("attempt end " + r); }
            @Override public void retry(RequestContext rc, String r) { events.add("retry " + r); }
            @Override public void requestEnd(RequestContext rc, RequestOutcome o, long now) { events.add("end " + o.tag()); }
        };
    }

    /** Starts an exchange for {@code body} POSTed to {@code path}, as the dispatcher would. */
    Exchange start(String path, String body) {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        FullHttpRequest req = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, path, Unpooled.wrappedBuffer(b));
        req.headers().set("content-type", "application/json").setInt("content-length", b.length);
        bodies.tryReserve(b.length);
        RouteSettings route = rt.router().route(path, () -> null);
        RequestContext rc = new RequestContext("req-1", "POST", path, System.nanoTime());
        rc.route = route;
        rc.deadline = RequestDeadlines.plan(rt.ticker(), rt.config().timeouts().with(route.timeouts()).request(), null, null, null).deadline();
        Exchange ex = new Exchange(rt, downCtx, req, rc, true, () -> ended++);
        ex.start();
        run();
        return ex;
    }

    /** Runs what is due now on every loop. */
    void run() {
        for (int i = 0; i < 3; i++) {
            down.runPendingTasks();
            for (EmbeddedChannel up : upstreams) up.runPendingTasks();
        }
    }

    /** Moves the one clock on by {@code millis} and runs what fell due. */
    void advance(long millis) {
        down.advanceTimeBy(millis, TimeUnit.MILLISECONDS);
        for (EmbeddedChannel up : upstreams) up.advanceTimeBy(millis, TimeUnit.MILLISECONDS);
        down.runScheduledPendingTasks();
        run();
    }

    EmbeddedChannel upstream() { return upstreams.peekLast(); }

    /** The request the upstream connection received, as text (released). */
    static String request(EmbeddedChannel up) {
        StringBuilder s = new StringBuilder();
        for (Object o; (o = up.readOutbound()) != null; ) {
            s.append(((ByteBuf) o).toString(StandardCharsets.ISO_8859_1));
            ReferenceCountUtil.release(o);
        }
        return s.toString();
    }

    /** The upstream sends these bytes. */
    void reply(EmbeddedChannel up, String bytes) {
        up.writeInbound(Unpooled.copiedBuffer(bytes, StandardCharsets.ISO_8859_1));
        run();
    }

    /** Everything the agent received so far, each message's text form (heads as "STATUS", bodies as their bytes). */
    List<String> agentReceived() {
        List<String> out = new ArrayList<>();
        for (Object o; (o = down.readOutbound()) != null; ) {
            if (o instanceof io.netty.handler.codec.http.HttpResponse) {
                var r = (io.netty.handler.codec.http.HttpResponse) o;
                out.add("HEAD " + r.status().code() + (r.headers().contains("x-egress-error") ? " " + r.headers().get("x-egress-error") : ""));
            }
            if (o instanceof io.netty.buffer.ByteBufHolder) {
                String text = ((io.netty.buffer.ByteBufHolder) o).content().toString(StandardCharsets.UTF_8);
                if (!text.isEmpty()) out.add(text);
            }
            ReferenceCountUtil.release(o);
        }
        return out;
    }

    @Override
    public void close() {
        down.finishAndReleaseAll();
        for (EmbeddedChannel up : upstreams) up.finishAndReleaseAll();
        rt.close();
    }
}
