package io.modelegress.server.upload;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.modelegress.server.testing.AccessLogCapture;
import io.modelegress.server.testing.DeadPort;
import io.modelegress.server.testing.DigestUpstream;
import io.modelegress.server.testing.MultipartUpload;
import io.modelegress.server.testing.RawHttp;
import io.modelegress.server.testing.Sidecar;
import io.modelegress.server.testing.TestConfig;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Bodies over {@code server.buffer_request_body_up_to} are streamed to the upstream, not held (issue 18 item 3):
 * byte for byte, with the credential injected, routed by path; refused by Content-Length over
 * {@code server.max_streamed_request_body} before the upstream sees anything; failed over only before the first
 * body byte went out.
 */
@Timeout(60)
class StreamedUploadTest {
    private static final HttpClient CLIENT = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    private static HttpResponse<String> upload(Sidecar s, String path, MultipartUpload body, boolean chunked) throws Exception {
        HttpRequest req = HttpRequest.newBuilder(URI.create(s.url() + path)).timeout(Duration.ofSeconds(45))
                .header("content-type", body.contentType()).header("authorization", "Bearer agent-key")
                .POST(chunked ? body.chunked() : body.withLength()).build();
        return CLIENT.send(req, HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void streamsAnUploadOverTheBufferToTheUpstreamByteForByteWithTheCredential() throws Exception {
        try (DigestUpstream up = new DigestUpstream();
             // 4 MiB of bodies held at once: a held 24 MiB body would be refused (503 overloaded).
             Sidecar s = TestConfig.config().server("max_buffered_bytes", "4MiB")
                     .upstream("openai", up.url(), u -> u.auth("authorization", "Bearer sk-upstream"))
                     .route("openai", "/v1", "openai").start()) {
            MultipartUpload body = new MultipartUpload(24L << 20); // 24 MiB: streamed, under max_request_body too
            HttpResponse<String> r = upload(s, "/v1/files", body, false);
            assertEquals(200, r.statusCode(), r.body());
            DigestUpstream.Upload got = up.take(10);
            assertEquals(body.length(), got.bytes());
            assertEquals(body.sha256(), got.sha256());
            assertTrue(r.body().contains(body.sha256()), r.body());
            assertEquals("Bearer sk-upstream", got.header("authorization"));
            assertEquals(String.valueOf(body.length()), got.header("content-length"));
            assertTrue(got.header("content-type").startsWith("multipart/form-data"), got.header("content-type"));
        }
    }

    @Test
    void aStreamedUploadIsAccountedWithTheBodyBytesReceivedInTheAccessLogAndUploadBytesMetric() throws Exception {
        try (DigestUpstream up = new DigestUpstream(); AccessLogCapture log = new AccessLogCapture();
             Sidecar s = TestConfig.config().upstream("openai", up.url()).route("files", "/v1", "openai").start()) {
            MultipartUpload sized = new MultipartUpload(3L << 20);
            MultipartUpload chunked = new MultipartUpload(5L << 20);
            assertEquals(200, upload(s, "/v1/files", sized, false).statusCode());
            assertEquals(200, upload(s, "/v1/uploads/part", chunked, true).statusCode());
            assertEquals(sized.length(), up.take(10).bytes());
            assertEquals(chunked.length(), up.take(10).bytes());
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> log.lines().size() >= 2);
            assertAccessLine(log, "/v1/files", sized.length());
            assertAccessLine(log, "/v1/uploads/part", chunked.length());
            String metrics = io.modelegress.server.testing.Http.get(s.adminUrl() + "/metrics").body();
            double total = sized.length() + chunked.length(); // under 1e7: Prometheus prints it as 8389...0.0
            assertTrue(metrics.contains("egress_upload_bytes_total{route=\"files\"} " + total), metrics);
        }
    }

    private static void assertAccessLine(AccessLogCapture log, String path, long bytes) {
        String line = log.lines().stream().filter(l -> l.contains("\"path\":\"" + path + "\"")).findFirst().orElseThrow();
        assertTrue(line.contains("\"bytes_in\":" + bytes + ","), line);
    }

    @Test
    void streamsAChunkedUploadOnceItOutgrowsTheBuffer() throws Exception {
        try (DigestUpstream up = new DigestUpstream();
             Sidecar s = TestConfig.config().upstream("openai", up.url()).route("openai", "/v1", "openai").start()) {
            MultipartUpload body = new MultipartUpload(40L << 20); // over server.max_request_body (32MiB): held, it would be 413
            HttpResponse<String> r = upload(s, "/v1/files", body, true);
            assertEquals(200, r.statusCode(), r.body());
            DigestUpstream.Upload got = up.take(10);
            assertEquals(body.length(), got.bytes());
            assertEquals(body.sha256(), got.sha256());
            assertEquals("chunked", got.header("transfer-encoding"));
        }
    }

    @Test
    void aStreamedMultipartUploadRoutesByPathNotByTheModelInItsBody() throws Exception {
        try (DigestUpstream byModel = new DigestUpstream(); DigestUpstream byPath = new DigestUpstream();
             Sidecar s = TestConfig.config().server("max_buffered_bytes", "2MiB").upstream("gpt", byModel.url()).upstream("files", byPath.url())
                     .route("gpt", "/v1", r -> r.models("gpt-*").upstreams("gpt"))
                     .route("files", "/v1", "files").start()) {
            // A small chunked JSON body is still held and routed by its model...
            HttpResponse<String> small = CLIENT.send(HttpRequest.newBuilder(URI.create(s.url() + "/v1/chat/completions"))
                    .timeout(Duration.ofSeconds(20)).header("content-type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new java.io.ByteArrayInputStream(
                            "{\"model\":\"gpt-4o\",\"messages\":[]}".getBytes()))).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, small.statusCode(), small.body());
            assertEquals("/v1/chat/completions", byModel.take(10).uri());
            // ...an upload (its form has model=gpt-4o) is never parsed: it goes by its path, to the catch-all.
            MultipartUpload body = new MultipartUpload(3L << 20);
            assertEquals(200, upload(s, "/v1/files", body, false).statusCode());
            assertEquals(body.sha256(), byPath.take(10).sha256());
            assertEquals(1, byModel.heads());
        }
    }

    @Test
    void aContentLengthOverTheStreamedLimitIs413BeforeTheUpstreamSeesAnything() throws Exception {
        try (DigestUpstream up = new DigestUpstream();
             Sidecar s = TestConfig.config().upstream("openai", up.url()).route("openai", "/v1", "openai").start();
             RawHttp raw = new RawHttp(s.port())) {
            long twoGb = 2L << 30;
            RawHttp.Response r = raw.send("POST /v1/files HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\n"
                    + "Content-Length: " + twoGb + "\r\n\r\n--b\r\n").read();
            assertEquals(413, r.status());
            assertEquals("request_too_large", r.header("x-egress-error"));
            assertTrue(r.body().contains("server.max_streamed_request_body"), r.body());
            assertTrue(raw.closedByPeer());
            assertEquals(0, up.accepted());
        }
    }

    @Test
    void aChunkedUploadCrossingTheStreamedLimitEndsWithATypedErrorAndTheConnectionCloses() throws Exception {
        try (DigestUpstream up = new DigestUpstream();
             Sidecar s = TestConfig.config().server("max_streamed_request_body", "4MiB")
                     .upstream("openai", up.url()).route("openai", "/v1", "openai").start();
             RawHttp raw = new RawHttp(s.port())) {
            raw.send("POST /v1/files HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
            byte[] chunk = new byte[256 * 1024];
            byte[] size = (Integer.toHexString(chunk.length) + "\r\n").getBytes();
            for (int i = 0; i < 17; i++) raw.send(size).send(chunk).send("\r\n".getBytes()); // 4.25 MiB
            raw.send("0\r\n\r\n");
            RawHttp.Response r = raw.read();
            assertEquals(413, r.status());
            assertEquals("request_too_large", r.header("x-egress-error"));
            assertTrue(raw.closedByPeer());
        }
    }

    @Test
    void anUploadWhoseUpstreamResetsMidBodyGetsATypedErrorAndIsNotRetried() throws Exception {
        try (DigestUpstream resetting = new DigestUpstream(2L << 20); DigestUpstream fallback = new DigestUpstream();
             Sidecar s = TestConfig.config().upstream("a", resetting.url()).upstream("b", fallback.url())
                     .route("r", "/v1", "a", "b").start()) {
            HttpResponse<String> r = upload(s, "/v1/files", new MultipartUpload(16L << 20), false);
            assertEquals(502, r.statusCode(), r.body());
            assertEquals("upstream_reset", r.headers().firstValue("x-egress-error").orElse(null));
            assertTrue(r.body().contains("streamed") && r.body().contains("cannot be replayed"), r.body());
            assertEquals(1, resetting.accepted());
            assertEquals(0, fallback.accepted());
        }
    }

    @Test
    void anUploadWhoseFirstUpstreamRefusesTheConnectionIsFailedOver() throws Exception {
        try (DeadPort dead = new DeadPort(); DigestUpstream up = new DigestUpstream();
             Sidecar s = TestConfig.config().server("max_buffered_bytes", "2MiB").upstream("dead", dead.url()).upstream("live", up.url())
                     .route("r", "/v1", "dead", "live").start()) {
            MultipartUpload body = new MultipartUpload(8L << 20);
            HttpResponse<String> r = upload(s, "/v1/files", body, false);
            assertEquals(200, r.statusCode(), r.body());
            DigestUpstream.Upload got = up.take(10);
            assertEquals(body.length(), got.bytes());
            assertEquals(body.sha256(), got.sha256());
            assertNull(got.header("expect"));
        }
    }
}
