package io.modelegress.server.testing;

import java.io.InputStream;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Random;

/**
 * A multipart/form-data upload as the OpenAI Files API takes it ({@code purpose} and {@code file} parts), generated
 * on the fly so a test can send hundreds of megabytes without holding them; its SHA-256 is computed as it is read.
 */
public final class MultipartUpload {
    public static final String BOUNDARY = "egress-upload-boundary-7c1f";
    private static final byte[] BLOCK = new byte[64 * 1024];
    static {
        new Random(18).nextBytes(BLOCK);
    }

    private final byte[] preamble;
    private final byte[] epilogue;
    private final long fileBytes;
    private volatile String sha256;

    public MultipartUpload(long fileBytes) {
        this.fileBytes = fileBytes;
        this.preamble = ("--" + BOUNDARY + "\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nbatch\r\n"
                + "--" + BOUNDARY + "\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\ngpt-4o\r\n"
                + "--" + BOUNDARY + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"batch.jsonl\"\r\n"
                + "Content-Type: application/octet-stream\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
        this.epilogue = ("\r\n--" + BOUNDARY + "--\r\n").getBytes(StandardCharsets.US_ASCII);
    }

    public String contentType() { return "multipart/form-data; boundary=" + BOUNDARY; }

    public long length() { return preamble.length + fileBytes + epilogue.length; }

    /** The digest of the body last read whole (after a send). */
    public String sha256() { return sha256; }

    /** With a Content-Length. */
    public HttpRequest.BodyPublisher withLength() {
        return HttpRequest.BodyPublishers.fromPublisher(HttpRequest.BodyPublishers.ofInputStream(this::stream), length());
    }

    /** Chunked: no Content-Length. */
    public HttpRequest.BodyPublisher chunked() { return HttpRequest.BodyPublishers.ofInputStream(this::stream); }

    public InputStream stream() {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        return new InputStream() {
            private long at;

            @Override
            public int read() {
                byte[] one = new byte[1];
                return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
            }

            @Override
            public int read(byte[] b, int off, int len) {
                long total = length();
                if (at >= total) return -1;
                int n = (int) Math.min(len, total - at);
                for (int i = 0; i < n; i++) b[off + i] = byteAt(at + i);
                md.update(b, off, n);
                at += n;
                if (at == total) sha256 = HexFormat.of().formatHex(md.digest());
                return n;
            }
        };
    }

    private byte byteAt(long i) {
        if (i < preamble.length) return preamble[(int) i];
        long f = i - preamble.length;
        if (f < fileBytes) return BLOCK[(int) ((f + f / BLOCK.length) % BLOCK.length)];
        return epilogue[(int) (f - fileBytes)];
    }
}
