package io.modelegress.bench;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * Time to first byte and to last byte of streamed (SSE) chat completions, one request after another on one
 * keep-alive connection, so each figure is one request's latency without queueing:
 *
 * <pre>
 * java -cp bench.jar io.modelegress.bench.SseLatency --url http://127.0.0.1:18080/v1/chat/completions
 *      [--requests 100] [--warmup 20] [--label sidecar] [--max-seconds 120]
 * </pre>
 *
 * First byte = the first body byte (the first SSE event); last byte = the end of the chunked body. Prints one
 * {@code SSE label=... n=... ttfb_p50_us=...} line for scripts. A plain blocking client on purpose: one request at a
 * time, and the clock is read right after the socket read returns.
 */
public final class SseLatency {
    private SseLatency() {}

    /** One response's timings in nanoseconds from the request write; {@code events} counts "data:" lines. */
    record Timing(int status, long firstByteNanos, long lastByteNanos, int events) {}

    public static void main(String[] argv) throws Exception {
        CliArgs a = new CliArgs(argv, "url", "requests", "warmup", "label", "max-seconds");
        URI url = URI.create(a.string("url", "http://127.0.0.1:18080/v1/chat/completions"));
        int requests = a.integer("requests", 100);
        int warmup = a.integer("warmup", 20);
        String label = a.string("label", url.getAuthority());
        long stopAt = System.nanoTime() + a.integer("max-seconds", 120) * 1_000_000_000L;
        byte[] request = request(url);

        long[] ttfb = new long[requests];
        long[] ttlb = new long[requests];
        int n = 0;
        int failures = 0;
        int minEvents = Integer.MAX_VALUE;
        try (Socket s = new Socket()) {
            s.setTcpNoDelay(true);
            s.setSoTimeout(30_000);
            s.connect(new InetSocketAddress(url.getHost(), url.getPort()), 5_000);
            InputStream in = new BufferedInputStream(s.getInputStream(), 64 * 1024);
            OutputStream out = s.getOutputStream();
            for (int i = 0; i < warmup + requests && System.nanoTime() < stopAt; i++) {
                Timing t = exchange(in, out, request);
                if (i < warmup) continue;
                if (t.status != 200) {
                    failures++;
                    continue;
                }
                minEvents = Math.min(minEvents, t.events);
                ttfb[n] = t.firstByteNanos;
                ttlb[n] = t.lastByteNanos;
                n++;
            }
        }
        Percentiles first = new Percentiles(ttfb, n);
        Percentiles last = new Percentiles(ttlb, n);
        System.out.printf(Locale.ROOT, "SSE label=%s n=%d failures=%d min_events=%d ttfb_p50_us=%d ttfb_p99_us=%d ttfb_mean_us=%.0f"
                        + " ttlb_p50_us=%d ttlb_p99_us=%d ttlb_mean_us=%.0f%n",
                label, n, failures, n == 0 ? 0 : minEvents, first.at(50) / 1000, first.at(99) / 1000, first.mean() / 1000,
                last.at(50) / 1000, last.at(99) / 1000, last.mean() / 1000);
    }

    static byte[] request(URI url) {
        String body = "{\"model\":\"gpt-4o-mini\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":"
                + "\"Say hello in fifty tokens.\"}]}";
        String head = "POST " + url.getRawPath() + " HTTP/1.1\r\n"
                + "Host: " + url.getAuthority() + "\r\n"
                + "Content-Type: application/json\r\n"
                + "Accept: text/event-stream\r\n"
                + "Content-Length: " + body.length() + "\r\n\r\n";
        return (head + body).getBytes(StandardCharsets.US_ASCII);
    }

    /** Writes one request and reads its whole response (chunked or with a length). */
    static Timing exchange(InputStream in, OutputStream out, byte[] request) throws IOException {
        long start = System.nanoTime();
        out.write(request);
        out.flush();
        String statusLine = line(in);
        int status = Integer.parseInt(statusLine.split(" ", 3)[1]);
        long contentLength = -1;
        boolean chunked = false;
        for (String h; !(h = line(in)).isEmpty(); ) {
            int colon = h.indexOf(':');
            String name = h.substring(0, colon).trim().toLowerCase(Locale.ROOT);
            String value = h.substring(colon + 1).trim();
            if (name.equals("content-length")) contentLength = Long.parseLong(value);
            if (name.equals("transfer-encoding") && value.toLowerCase(Locale.ROOT).contains("chunked")) chunked = true;
        }
        EventCounter events = new EventCounter();
        long firstByte = -1;
        if (chunked) {
            while (true) {
                String size = line(in);
                if (firstByte < 0) firstByte = System.nanoTime() - start;
                int semi = size.indexOf(';');
                int len = Integer.parseInt((semi < 0 ? size : size.substring(0, semi)).trim(), 16);
                if (len == 0) {
                    while (!line(in).isEmpty()) { /* trailers */ }
                    break;
                }
                for (int i = 0; i < len; i++) events.feed(read(in));
                line(in);
            }
        } else {
            for (long i = 0; i < contentLength; i++) {
                int b = read(in);
                if (firstByte < 0) firstByte = System.nanoTime() - start;
                events.feed(b);
            }
        }
        long lastByte = System.nanoTime() - start;
        return new Timing(status, firstByte < 0 ? lastByte : firstByte, lastByte, events.count);
    }

    private static int read(InputStream in) throws IOException {
        int b = in.read();
        if (b < 0) throw new EOFException("connection closed mid-response");
        return b;
    }

    private static String line(InputStream in) throws IOException {
        StringBuilder sb = new StringBuilder(64);
        while (true) {
            int b = read(in);
            if (b == '\n') break;
            if (b != '\r') sb.append((char) b);
        }
        return sb.toString();
    }

    /** Counts "data:" at the start of a line, across reads. */
    static final class EventCounter {
        private static final byte[] DATA = "data:".getBytes(StandardCharsets.US_ASCII);
        private int matched;
        private boolean lineStart = true;
        int count;

        void feed(int b) {
            if (lineStart || matched > 0) {
                if (b == DATA[matched]) {
                    if (++matched == DATA.length) {
                        count++;
                        matched = 0;
                    }
                    lineStart = false;
                    return;
                }
                matched = 0;
            }
            lineStart = b == '\n';
        }
    }
}
