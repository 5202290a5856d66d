package io.modelegress.server.upstream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.modelegress.server.testing.Sidecar;
import io.modelegress.server.testing.TestConfig;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;

/**
 * {@code timeouts.response_headers} counts from the request's last byte written, on real loopback sockets: an
 * upstream that takes a held 8 MiB body slowly (a 16 KiB receive buffer, not read until the test says) is not timed
 * out for a head it could not have sent yet. The write of a held request has two ways to finish (at once, or later
 * when the socket has taken it all); this is the later one.
 */
class SlowUploadTest {
    private static final int PAD = 8 << 20;

    @Test
    void theWaitForTheHeadStartsOnlyOnceTheUpstreamHasTakenTheWholeBody() throws Exception {
        try (ServerSocket server = new ServerSocket()) {
            server.setReceiveBufferSize(16 * 1024);
            server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            CountDownLatch startReading = new CountDownLatch(1);
            CompletableFuture<Integer> bodyRead = new CompletableFuture<>();
            Thread upstream = new Thread(() -> serve(server, startReading, bodyRead), "slow-upstream");
            upstream.setDaemon(true);
            upstream.start();
            try (Sidecar sidecar = TestConfig.config().ignoreEnvironmentProxy()
                    .server("buffer_request_body_up_to", "16MiB").server("max_request_body", "16MiB")
                    .timeout("response_headers", "500ms")
                    .upstream("slow", "http://127.0.0.1:" + server.getLocalPort())
                    .route("r", "/v1", "slow").start()) {
                String body = "{\"model\":\"m\",\"pad\":\"" + "x".repeat(PAD) + "\"}";
                CompletableFuture<HttpResponse<String>> answer = HttpClient.newHttpClient().sendAsync(
                        HttpRequest.newBuilder(URI.create(sidecar.url() + "/v1/chat/completions"))
                                .timeout(Duration.ofSeconds(60)).header("content-type", "application/json")
                                .POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                        HttpResponse.BodyHandlers.ofString());
                // Four response_headers periods with the body still in the sockets: no 504 may come back.
                assertThrows(TimeoutException.class, () -> answer.get(2, TimeUnit.SECONDS),
                        () -> "answered while the upstream had not read the body: " + answer.join().statusCode() + " " + answer.join().body());
                startReading.countDown();
                HttpResponse<String> r = answer.get(60, TimeUnit.SECONDS);
                assertEquals(200, r.statusCode(), r.body());
                assertEquals(body.length(), bodyRead.get(10, TimeUnit.SECONDS), "the upstream got the whole body");
            }
        }
    }

    /** Accepts one request, reads nothing until {@code go}, then reads it whole and answers 200. */
    private static void serve(ServerSocket server, CountDownLatch go, CompletableFuture<Integer> bodyRead) {
        try (Socket s = server.accept()) {
            if (!go.await(60, TimeUnit.SECONDS)) throw new IOException("the test never said to read");
            InputStream in = s.getInputStream();
            ByteArrayOutputStream head = new ByteArrayOutputStream();
            while (!head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
                int b = in.read();
                if (b < 0) throw new IOException("the request ended in its head");
                head.write(b);
            }
            int length = -1;
            for (String line : head.toString(StandardCharsets.ISO_8859_1).split("\r\n")) {
                if (line.toLowerCase().startsWith("content-length:")) length = Integer.parseInt(line.substring(15).trim());
            }
            byte[] body = in.readNBytes(length);
            OutputStream out = s.getOutputStream();
            out.write("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}"
                    .getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            bodyRead.complete(body.length);
            in.read(); // until the sidecar closes or pools and the test ends
        } catch (Exception e) {
            bodyRead.completeExceptionally(e);
        }
    }
}
