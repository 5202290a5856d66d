package io.modelegress.server.testing;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * An agent's WebSocket: Java's own {@link java.net.http.WebSocket} client, its messages (text, or binary as
 * {@code byte[]}) and its close collected for bounded waits.
 */
public final class WsClient implements WebSocket.Listener {
    /** The close the client received: code and reason. */
    public record Closed(int code, String reason) {}

    public final WebSocket socket;
    private final BlockingQueue<Object> messages = new LinkedBlockingQueue<>();
    private final CompletableFuture<Closed> closed = new CompletableFuture<>();
    private final BlockingQueue<byte[]> pings = new LinkedBlockingQueue<>();
    private final BlockingQueue<byte[]> pongs = new LinkedBlockingQueue<>();
    private final StringBuilder text = new StringBuilder();
    private java.io.ByteArrayOutputStream binary = new java.io.ByteArrayOutputStream();

    private WsClient(URI uri, Map<String, String> headers, String... subprotocols) throws Exception {
        WebSocket.Builder b = HttpClient.newHttpClient().newWebSocketBuilder().connectTimeout(Duration.ofSeconds(10));
        headers.forEach(b::header);
        if (subprotocols.length > 0) {
            String[] rest = java.util.Arrays.copyOfRange(subprotocols, 1, subprotocols.length);
            b.subprotocols(subprotocols[0], rest);
        }
        socket = b.buildAsync(uri, this).get(20, TimeUnit.SECONDS);
    }

    /** Opens {@code uri}; a refused upgrade throws the client's {@code ExecutionException}. */
    public static WsClient open(URI uri, Map<String, String> headers, String... subprotocols) throws Exception {
        return new WsClient(uri, headers, subprotocols);
    }

    /** The next whole message (a String, or byte[] for binary), waiting at most 10 s. */
    public Object next() throws InterruptedException {
        Object m = messages.poll(10, TimeUnit.SECONDS);
        if (m == null) throw new AssertionError("no message within 10s");
        return m;
    }

    /** The close frame the client got, waiting at most {@code seconds}. */
    public Closed closed(long seconds) throws Exception { return closed.get(seconds, TimeUnit.SECONDS); }

    @Override
    public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
        text.append(data);
        if (last) {
            messages.add(text.toString());
            text.setLength(0);
        }
        ws.request(1);
        return null;
    }

    @Override
    public CompletionStage<?> onBinary(WebSocket ws, ByteBuffer data, boolean last) {
        byte[] b = new byte[data.remaining()];
        data.get(b);
        binary.writeBytes(b);
        if (last) {
            messages.add(binary.toByteArray());
            binary = new java.io.ByteArrayOutputStream();
        }
        ws.request(1);
        return null;
    }

    /** The payload of the next ping the client received (the JDK client has answered it with a pong itself). */
    public byte[] nextPing() throws InterruptedException { return poll(pings, "ping"); }

    /** The payload of the next pong the client received. */
    public byte[] nextPong() throws InterruptedException { return poll(pongs, "pong"); }

    private static byte[] poll(BlockingQueue<byte[]> q, String what) throws InterruptedException {
        byte[] b = q.poll(10, TimeUnit.SECONDS);
        if (b == null) throw new AssertionError("no " + what + " within 10s");
        return b;
    }

    @Override
    public CompletionStage<?> onPing(WebSocket ws, ByteBuffer message) {
        pings.add(bytes(message));
        ws.request(1);
        return null;
    }

    @Override
    public CompletionStage<?> onPong(WebSocket ws, ByteBuffer message) {
        pongs.add(bytes(message));
        ws.request(1);
        return null;
    }

    private static byte[] bytes(ByteBuffer data) {
        byte[] b = new byte[data.remaining()];
        data.get(b);
        return b;
    }

    @Override
    public CompletionStage<?> onClose(WebSocket ws, int code, String reason) {
        closed.complete(new Closed(code, reason));
        return null;
    }

    @Override
    public void onError(WebSocket ws, Throwable error) {
        closed.completeExceptionally(error);
    }
}
