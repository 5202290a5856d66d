package io.modelegress.server.perf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.modelegress.server.testing.Sidecar;
import io.modelegress.server.testing.TestConfig;
import io.modelegress.server.testing.TestUpstream;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.LastHttpContent;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLong;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/**
 * A slow agent reading a fast stream: the sidecar stops reading the upstream while the agent's socket is full,
 * so what it holds stays bounded instead of growing with the stream.
 */
class BackPressureTest {
    static final int CHUNK = 16 * 1024;
    static final long TOTAL = 256L * 1024 * 1024;

    @Test
    void aSlowAgentDoesNotMakeTheSidecarBufferTheStream() throws Exception {
        AtomicLong written = new AtomicLong();
        byte[] event = sseEvent();
        try (TestUpstream up = new TestUpstream();
             Sidecar s = TestConfig.config().timeout("stream_idle", "60s")
                     .upstream("up", up.url()).route("r", "/v1", "up").start()) {
            up.script((ctx, req) -> {
                TestUpstream.sseHead(ctx);
                pump(ctx, event, written);
            });
            try (Socket agent = new Socket()) {
                agent.setReceiveBufferSize(64 * 1024);
                agent.connect(s.server.agentAddress());
                agent.setSoTimeout(30_000);
                agent.getOutputStream().write("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}"
                        .getBytes(StandardCharsets.US_ASCII));
                // The agent reads nothing: the upstream can only get as far as the buffers between them allow.
                Awaitility.await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(100))
                        .until(() -> written.get() > 0);
                long[] last = {-1};
                Awaitility.await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(250)).until(() -> {
                    long now = written.get();
                    boolean stalled = now == last[0];
                    last[0] = now;
                    return stalled;
                });
                long stalledAt = written.get();
                long direct = PooledByteBufAllocator.DEFAULT.metric().usedDirectMemory();
                assertTrue(stalledAt < 32L * 1024 * 1024, "the upstream got " + stalledAt + " bytes out to a reader that read nothing");
                assertTrue(direct < 64L * 1024 * 1024, "direct memory in use while stalled: " + direct);

                // Now the agent reads: everything arrives, and only then does the upstream finish.
                InputStream in = agent.getInputStream();
                byte[] buf = new byte[256 * 1024];
                long read = 0;
                String tail = "";
                while (!tail.endsWith("0\r\n\r\n")) {
                    int n = in.read(buf);
                    if (n < 0) break;
                    read += n;
                    tail = new String(buf, Math.max(0, n - 16), Math.min(n, 16), StandardCharsets.US_ASCII);
                }
                assertEquals(TOTAL, written.get());
                assertTrue(read >= TOTAL, "the agent got " + read + " of " + TOTAL + " bytes");
            }
        }
    }

    /**
     * While the sidecar holds the upstream's reads because the agent is slow, the upstream's silence is not its own:
     * stream_idle (300 ms here) must not cut a stream whose agent pauses reading for far longer.
     */
    @Test
    void aSlowAgentIsNotCutByStreamIdle() throws Exception {
        AtomicLong written = new AtomicLong();
        long total = 16L * 1024 * 1024;
        byte[] event = sseEvent();
        try (TestUpstream up = new TestUpstream();
             Sidecar s = TestConfig.config().timeout("stream_idle", "300ms")
                     .upstream("up", up.url()).route("r", "/v1", "up").start()) {
            up.script((ctx, req) -> {
                TestUpstream.sseHead(ctx);
                pump(ctx, event, written, total, "data: [DONE]\n\n");
            });
            try (Socket agent = new Socket()) {
                agent.setReceiveBufferSize(64 * 1024);
                agent.connect(s.server.agentAddress());
                agent.setSoTimeout(30_000);
                agent.getOutputStream().write("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}"
                        .getBytes(StandardCharsets.US_ASCII));
                // The agent reads nothing until the upstream has been held, silent, for several stream_idle periods.
                Awaitility.await().atMost(Duration.ofSeconds(20)).until(() -> written.get() > 0);
                long[] last = {-1};
                long[] since = {System.nanoTime()};
                Awaitility.await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(100)).until(() -> {
                    long now = written.get();
                    if (now != last[0]) {
                        last[0] = now;
                        since[0] = System.nanoTime();
                    }
                    return System.nanoTime() - since[0] > Duration.ofMillis(1500).toNanos();
                });
                assertTrue(written.get() < total, "the upstream was held back");
                InputStream in = agent.getInputStream();
                byte[] buf = new byte[256 * 1024];
                java.io.ByteArrayOutputStream tail = new java.io.ByteArrayOutputStream();
                String end = "";
                while (!end.endsWith("0\r\n\r\n")) {
                    int n = in.read(buf);
                    if (n < 0) break;
                    tail.write(buf, 0, n);
                    if (tail.size() > 8192) {
                        byte[] keep = java.util.Arrays.copyOfRange(tail.toByteArray(), tail.size() - 4096, tail.size());
                        tail.reset();
                        tail.write(keep);
                    }
                    end = tail.toString(StandardCharsets.US_ASCII);
                }
                assertFalse(end.contains("stream_idle_timeout"), "a slow agent was reported as a silent upstream: "
                        + end.substring(Math.max(0, end.length() - 300)));
                assertTrue(end.contains("data: [DONE]"), end.substring(Math.max(0, end.length() - 300)));
                assertEquals(total, written.get());
            }
        }
    }

    private static void pump(ChannelHandlerContext ctx, byte[] event, AtomicLong written) {
        pump(ctx, event, written, TOTAL, null);
    }

    /** Writes the next event only when the previous one left the socket: the upstream is as fast as TCP lets it. */
    private static void pump(ChannelHandlerContext ctx, byte[] event, AtomicLong written, long total, String last) {
        if (written.get() >= total) {
            if (last != null) ctx.write(new DefaultHttpContent(Unpooled.copiedBuffer(last, StandardCharsets.US_ASCII)));
            ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
            return;
        }
        ctx.writeAndFlush(new DefaultHttpContent(Unpooled.wrappedBuffer(event))).addListener((ChannelFutureListener) f -> {
            if (!f.isSuccess()) return;
            written.addAndGet(event.length);
            pump(ctx, event, written, total, last);
        });
    }

    private static byte[] sseEvent() {
        byte[] b = new byte[CHUNK];
        Arrays.fill(b, (byte) 'x');
        byte[] head = "data: ".getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(head, 0, b, 0, head.length);
        b[CHUNK - 2] = '\n';
        b[CHUNK - 1] = '\n';
        return b;
    }
}
