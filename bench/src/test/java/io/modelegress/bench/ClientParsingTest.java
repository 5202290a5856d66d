package io.modelegress.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ClientParsingTest {
    @Test
    void percentilesUseTheNearestRank() {
        long[] v = new long[100];
        for (int i = 0; i < 100; i++) v[i] = 100 - i;
        Percentiles p = new Percentiles(v, 100);
        assertEquals(50, p.at(50));
        assertEquals(99, p.at(99));
        assertEquals(100, p.at(99.9));
        assertEquals(1, p.at(0));
    }

    @Test
    void countsDataLinesAcrossChunkBoundaries() {
        SseLatency.EventCounter c = new SseLatency.EventCounter();
        for (byte b : "data: a\n\ndat".getBytes(StandardCharsets.US_ASCII)) c.feed(b);
        for (byte b : "a: b\n\n: comment data:\ndata: [DONE]\n\n".getBytes(StandardCharsets.US_ASCII)) c.feed(b);
        assertEquals(3, c.count);
    }

    @Test
    void readsAChunkedStreamToItsEnd() throws Exception {
        String response = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"
                + "9\r\ndata: a\n\n\r\n" + "e\r\ndata: [DONE]\n\n\r\n" + "0\r\n\r\n";
        SseLatency.Timing t = SseLatency.exchange(new ByteArrayInputStream(response.getBytes(StandardCharsets.US_ASCII)),
                new ByteArrayOutputStream(), new byte[0]);
        assertEquals(200, t.status());
        assertEquals(2, t.events());
    }
}
