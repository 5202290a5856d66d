package io.modelegress.bench;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Holds many slow SSE streams open at once, all on one event loop, and counts the ones that did not end well:
 *
 * <pre>
 * java -cp bench.jar io.modelegress.bench.SseHold --url http://127.0.0.1:18080/v1/chat/completions
 *      [--streams 10000] [--expect-events 31] [--connects-per-tick 200] [--tick-ms 50] [--max-seconds 120]
 * </pre>
 *
 * A stream is complete when it answered 200, ended with the chunked terminator and carried at least
 * {@code --expect-events} "data:" events; anything else (refused, reset, error status, short) is dropped. Prints a
 * progress line per second, {@code ALL_OPEN} once every stream is open at the same time, and a {@code HOLD ...}
 * summary line at the end. Exits 0 when none dropped, 1 otherwise.
 */
public final class SseHold {
    private final InetSocketAddress target;
    private final FullHttpRequest template;
    private final int streams;
    private final int expectEvents;

    // All touched only on the one event loop.
    private int launched;
    private int open;
    private int maxOpen;
    private int completed;
    private int dropped;
    private final TreeMap<String, Integer> dropReasons = new TreeMap<>();
    private boolean allOpenSaid;
    private final CountDownLatch done = new CountDownLatch(1);

    private SseHold(URI url, int streams, int expectEvents) {
        this.target = new InetSocketAddress(url.getHost(), url.getPort());
        this.streams = streams;
        this.expectEvents = expectEvents;
        byte[] body = ("{\"model\":\"gpt-4o-mini\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":"
                + "\"Hold this stream open.\"}]}").getBytes(StandardCharsets.US_ASCII);
        this.template = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, url.getRawPath(), Unpooled.wrappedBuffer(body));
        template.headers().set(HttpHeaderNames.HOST, url.getAuthority())
                .set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON)
                .set(HttpHeaderNames.ACCEPT, "text/event-stream")
                .setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
    }

    public static void main(String[] argv) throws Exception {
        CliArgs a = new CliArgs(argv, "url", "streams", "expect-events", "connects-per-tick", "tick-ms", "max-seconds");
        URI url = URI.create(a.string("url", "http://127.0.0.1:18080/v1/chat/completions"));
        SseHold hold = new SseHold(url, a.integer("streams", 10_000), a.integer("expect-events", 31));
        int perTick = a.integer("connects-per-tick", 200);
        long tickMs = a.longValue("tick-ms", 50);
        long maxSeconds = a.longValue("max-seconds", 120);

        BenchTransport transport = BenchTransport.best();
        EventLoopGroup group = transport.group(1, "hold-io");
        EventLoop loop = group.next();
        Bootstrap b = new Bootstrap().group(loop).channel(transport.socketChannel())
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 10_000)
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new HttpClientCodec(), hold.new Stream());
                    }
                });
        long start = System.nanoTime();
        loop.scheduleAtFixedRate(() -> hold.launch(b, perTick), 0, tickMs, TimeUnit.MILLISECONDS);
        loop.scheduleAtFixedRate(() -> hold.progress(start), 1, 1, TimeUnit.SECONDS);
        boolean finished = hold.done.await(maxSeconds, TimeUnit.SECONDS);
        int dropped = loop.submit(() -> hold.summary(start, finished)).get(5, TimeUnit.SECONDS);
        group.shutdownGracefully(0, 100, TimeUnit.MILLISECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
        System.exit(dropped == 0 && finished ? 0 : 1);
    }

    private void launch(Bootstrap b, int count) {
        for (int i = 0; i < count && launched < streams; i++) {
            launched++;
            ChannelFuture f = b.connect(target);
            f.addListener(c -> {
                if (!c.isSuccess()) drop("connect: " + c.cause().getClass().getSimpleName());
            });
        }
    }

    private void progress(long start) {
        System.out.printf(Locale.ROOT, "t=%ds launched=%d open=%d completed=%d dropped=%d%n",
                TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start), launched, open, completed, dropped);
        System.out.flush();
    }

    private int summary(long start, boolean finished) {
        int unfinished = streams - completed - dropped;
        System.out.printf(Locale.ROOT, "HOLD streams=%d completed=%d dropped=%d unfinished=%d max_open=%d seconds=%.1f reasons=%s%n",
                streams, completed, dropped, unfinished, maxOpen, (System.nanoTime() - start) / 1e9, dropReasons);
        System.out.flush();
        return dropped + (finished ? 0 : unfinished);
    }

    private void drop(String reason) {
        dropped++;
        dropReasons.merge(reason, 1, Integer::sum);
        checkDone();
    }

    private void checkDone() {
        if (completed + dropped == streams) done.countDown();
    }

    /** One stream: sends the request when connected, then counts what comes back. */
    private final class Stream extends ChannelInboundHandlerAdapter {
        private final SseLatency.EventCounter events = new SseLatency.EventCounter();
        private boolean counted; // open and not yet ended
        private boolean ended;

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            ctx.writeAndFlush(template.retainedDuplicate());
            ctx.fireChannelActive();
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
                if (ended) return;
                if (msg instanceof HttpResponse r) {
                    if (r.status().code() != 200) {
                        end(ctx, "status " + r.status().code());
                        return;
                    }
                    counted = true;
                    open++;
                    maxOpen = Math.max(maxOpen, open);
                    if (open == streams && !allOpenSaid) {
                        allOpenSaid = true;
                        System.out.println("ALL_OPEN " + open);
                        System.out.flush();
                    }
                }
                if (msg instanceof HttpContent c) {
                    ByteBuf buf = c.content();
                    for (int i = buf.readerIndex(); i < buf.writerIndex(); i++) events.feed(buf.getByte(i));
                    if (msg instanceof LastHttpContent) {
                        end(ctx, events.count >= expectEvents ? null : "short: " + events.count + " events");
                    }
                }
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }

        /** Ends this stream once: null reason = complete. */
        private void end(ChannelHandlerContext ctx, String reason) {
            if (ended) return;
            ended = true;
            if (counted) open--;
            if (reason == null) {
                completed++;
                checkDone();
            } else {
                drop(reason);
            }
            ctx.close();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            end(ctx, counted ? "closed mid-stream" : "closed before the response");
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            end(ctx, "error: " + cause.getClass().getSimpleName());
        }
    }
}
