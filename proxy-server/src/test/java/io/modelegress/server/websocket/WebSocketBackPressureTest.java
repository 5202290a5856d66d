package io.modelegress.server.websocket;

import static io.modelegress.server.websocket.WebSocketPassthroughTest.DUMMY;
import static io.modelegress.server.websocket.WebSocketPassthroughTest.config;
import static io.modelegress.server.websocket.WebSocketPassthroughTest.ws;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.modelegress.server.testing.Sidecar;
import io.modelegress.server.testing.WebSocketUpstream;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import io.netty.buffer.PooledByteBufAllocator;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * "Frames are relayed both ways with back-pressure" (issue 18): a side that stops reading holds the other side's
 * socket, not the sidecar's memory. 200 frames of 1 MiB (upstream to agent) and 64 of 256 KiB (agent to upstream)
 * are more than the kernel's socket buffers between the three parties hold; while the flow is held the sender is
 * stopped and the sidecar's direct memory is measured, then everything arrives intact and in order.
 */
@Timeout(120)
class WebSocketBackPressureTest {
    static final int FRAMES = 200;
    static final int SIZE = 1 << 20;
    /**
     * Generous: the allocators' chunks for a frame in progress per side and a read's worth, far below the 200 MiB
     * flooded (measured from just before the flood: the pooled allocators keep their chunks between tests).
     */
    /**
     * Agent to upstream every frame is masked, and unmasking at PARANOID leak detection costs about a second per MiB on
     * each hop: smaller frames (so a held flow is told from a slow one) and fewer MiB, still more than the sockets hold.
     */
    static final int UP_FRAMES = 64;
    static final int UP_SIZE = 256 << 10;
    static final long DIRECT_CAP = 32L << 20;

    @Test
    void anAgentThatStopsReadingHoldsTheUpstreamNotTheSidecarsMemory() throws Exception {
        try (WebSocketUpstream up = new WebSocketUpstream(); Sidecar s = config("http://127.0.0.1:" + up.port(), true).start()) {
            SlowAgent agent = new SlowAgent();
            HttpClient.newHttpClient().newWebSocketBuilder().connectTimeout(Duration.ofSeconds(10))
                    .header("Authorization", DUMMY.get("Authorization"))
                    .buildAsync(ws(s, "/v1/realtime"), agent).get(20, TimeUnit.SECONDS);
            long before = directMemory();
            WebSocketUpstream.Flood flood = up.flood(FRAMES, SIZE);
            agent.firstPart.get(20, TimeUnit.SECONDS); // from here the agent requests nothing: its client stops reading

            flood.unwritable.get(30, TimeUnit.SECONDS); // the sidecar stopped reading the upstream
            int heldAt = stalled(flood::written);
            long direct = directMemory() - before;
            assertTrue(heldAt < FRAMES, "the upstream got all " + FRAMES + " frames out to an agent that read one");
            assertTrue(direct < DIRECT_CAP, "direct memory taken while the agent reads nothing: " + direct);

            agent.readAll();
            flood.done.get(60, TimeUnit.SECONDS);
            assertEquals(Integer.valueOf(FRAMES), agent.messages.get(60, TimeUnit.SECONDS), "every frame arrived");
            assertNull(agent.problem, agent.problem);
        }
    }

    @Test
    void anUpstreamThatStopsReadingHoldsTheAgentNotTheSidecarsMemory() throws Exception {
        ExecutorService sender = Executors.newSingleThreadExecutor();
        try (WebSocketUpstream up = new WebSocketUpstream().sinkBinary(); Sidecar s = config("http://127.0.0.1:" + up.port(), true).start()) {
            WebSocket socket = HttpClient.newHttpClient().newWebSocketBuilder().connectTimeout(Duration.ofSeconds(10))
                    .header("Authorization", DUMMY.get("Authorization"))
                    .buildAsync(ws(s, "/v1/realtime"), new WebSocket.Listener() {}).get(20, TimeUnit.SECONDS);
            up.reading(false);
            long before = directMemory();
            AtomicInteger sent = new AtomicInteger();
            Future<?> sending = sender.submit(() -> {
                for (int i = 0; i < UP_FRAMES; i++) {
                    byte[] b = new byte[UP_SIZE];
                    java.util.Arrays.fill(b, (byte) i);
                    socket.sendBinary(ByteBuffer.wrap(b), true).get(); // completes once the client's socket took it
                    sent.incrementAndGet();
                }
                return null;
            });
            int heldAt = stalled(sent::get);
            long direct = directMemory() - before;
            assertTrue(heldAt < UP_FRAMES, "the agent got all " + UP_FRAMES + " frames out to an upstream that read none");
            assertTrue(direct < DIRECT_CAP, "direct memory taken while the upstream reads nothing: " + direct);

            up.reading(true);
            for (int i = 0; i < UP_FRAMES; i++) {
                assertEquals(new WebSocketUpstream.Sunk(UP_SIZE, i & 0xff), up.takeSunk(), "frame " + i);
            }
            sending.get(30, TimeUnit.SECONDS);
        } finally {
            sender.shutdownNow();
        }
    }

    /** Waits until {@code progress} stops moving for 2 s (bounded; a slow flow moves in far less), and returns where it stopped. */
    private static int stalled(java.util.function.IntSupplier progress) {
        int[] last = {-1};
        long[] since = {System.nanoTime()};
        Awaitility.await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100)).until(() -> {
            int now = progress.getAsInt();
            if (now != last[0]) {
                last[0] = now;
                since[0] = System.nanoTime();
            }
            return System.nanoTime() - since[0] > Duration.ofMillis(2000).toNanos();
        });
        return last[0];
    }

    /** Direct memory of the sidecar's allocators: the agent side's pooled one and Netty's default (the upstream side's). */
    private static long directMemory() {
        long pooled = PooledByteBufAllocator.DEFAULT.metric().usedDirectMemory();
        if (ByteBufAllocator.DEFAULT != PooledByteBufAllocator.DEFAULT
                && ByteBufAllocator.DEFAULT instanceof ByteBufAllocatorMetricProvider p) {
            return pooled + p.metric().usedDirectMemory();
        }
        return pooled;
    }

    /**
     * An agent that takes the first part of a message and then requests nothing (the JDK client reads its socket only
     * on demand) until {@link #readAll}; it checks every message is 1 MiB of its own index's byte, in order.
     */
    static final class SlowAgent implements WebSocket.Listener {
        final CompletableFuture<Void> firstPart = new CompletableFuture<>();
        final CompletableFuture<Integer> messages = new CompletableFuture<>();
        volatile String problem;
        private volatile WebSocket socket;
        private int message;
        private int offset;

        @Override
        public void onOpen(WebSocket ws) {
            socket = ws;
            ws.request(1);
        }

        void readAll() { socket.request(Long.MAX_VALUE); }

        @Override
        public CompletionStage<?> onBinary(WebSocket ws, ByteBuffer data, boolean last) {
            while (data.hasRemaining()) {
                byte b = data.get();
                if (b != (byte) message && problem == null) problem = "message " + message + " byte " + offset + " is " + b;
                offset++;
            }
            if (last) {
                if (offset != SIZE && problem == null) problem = "message " + message + " has " + offset + " bytes";
                message++;
                offset = 0;
                if (message == FRAMES) messages.complete(message);
            }
            firstPart.complete(null);
            return null;
        }

        @Override
        public void onError(WebSocket ws, Throwable error) {
            messages.completeExceptionally(error);
        }
    }
}
