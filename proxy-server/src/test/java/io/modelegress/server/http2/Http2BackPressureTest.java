package io.modelegress.server.http2;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.modelegress.server.testing.H2Upstream;
import io.modelegress.server.testing.Sidecar;
import io.modelegress.server.testing.TestConfig;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.LastHttpContent;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLong;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A slow agent reading a fast h2 stream: the sidecar stops reading the stream while the agent's socket is full, so it
 * returns no flow-control window and the server stops at the window; nothing grows with the stream.
 */
@Timeout(90)
class Http2BackPressureTest {
    static final int CHUNK = 16 * 1024;
    static final long TOTAL = 64L * 1024 * 1024;
    @TempDir
    Path dir;

    @Test
    void aSlowAgentHoldsTheH2StreamAtItsWindow() throws Exception {
        AtomicLong written = new AtomicLong();
        byte[] event = sseEvent();
        try (H2Upstream up = new H2Upstream(dir, true, 0);
             Sidecar s = TestConfig.config().timeout("stream_idle", "60s").set("tls.ca_bundle", up.caBundle().toString())
                     .ignoreEnvironmentProxy().upstream("up", up.url()).route("r", "/v1", "up").start()) {
            up.script(r -> {
                r.sseHead();
                pump(r, event, written);
            });
            try (Socket agent = new Socket()) {
                agent.setReceiveBufferSize(64 * 1024);
                agent.connect(s.server.agentAddress());
                agent.setSoTimeout(30_000);
                agent.getOutputStream().write("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}"
                        .getBytes(StandardCharsets.US_ASCII));
                Awaitility.await().atMost(Duration.ofSeconds(20)).until(() -> written.get() > 0);
                long[] last = {-1};
                Awaitility.await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(250)).until(() -> {
                    long now = written.get();
                    boolean stalled = now == last[0];
                    last[0] = now;
                    return stalled;
                });
                long stalledAt = written.get();
                long direct = PooledByteBufAllocator.DEFAULT.metric().usedDirectMemory();
                assertTrue(stalledAt < 16L * 1024 * 1024, "the h2 server got " + stalledAt + " bytes out to a reader that read nothing");
                assertTrue(direct < 64L * 1024 * 1024, "direct memory in use while stalled: " + direct);

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

    /** The next event only once the last one was written: on h2, once the stream's flow-control window let it out. */
    private static void pump(H2Upstream.Request r, byte[] event, AtomicLong written) {
        if (written.get() >= TOTAL) {
            r.channel.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
            return;
        }
        r.channel.writeAndFlush(new DefaultHttpContent(Unpooled.wrappedBuffer(event))).addListener((ChannelFutureListener) f -> {
            if (!f.isSuccess()) return;
            written.addAndGet(event.length);
            pump(r, event, written);
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
