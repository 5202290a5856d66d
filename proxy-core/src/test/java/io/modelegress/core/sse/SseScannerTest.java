package io.modelegress.core.sse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class SseScannerTest {
    private static int feed(SseScanner s, String text) {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        return s.feed(b, 0, b.length);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "comment is not progress | : keep-alive\\n\\n | 0",
        "ping event is not progress | event: ping\\ndata: {}\\n\\n | 0",
        "data event is progress | data: {\"a\":1}\\n\\n | 1",
        "named event with data is progress | event: content_block_delta\\ndata: {}\\n\\n | 1",
        "CRLF line endings | data: x\\r\\n\\r\\n | 1",
        "incomplete event is not yet progress | data: x\\n | 0",
        "two events | data: 1\\n\\ndata: 2\\n\\n | 2",
    })
    void countsOnlyDataCarryingEvents(String name, String stream, int expected) {
        assertEquals(expected, feed(new SseScanner(), stream.replace("\\n", "\n").replace("\\r", "\r")));
    }

    @Test
    void eventSplitAcrossChunksCompletesOnTheBlankLine() {
        SseScanner s = new SseScanner();
        assertEquals(0, feed(s, "da"));
        assertEquals(0, feed(s, "ta: {\"x\":1}\r"));
        assertEquals(0, feed(s, "\n"));
        assertEquals(1, feed(s, "\r\n"));
        assertEquals("{\"x\":1}", s.firstEventData());
    }

    @Test
    void keepsOnlyTheFirstEventsData() {
        SseScanner s = new SseScanner();
        assertNull(s.firstEventData());
        feed(s, ": hi\n\ndata: first\ndata: line2\n\ndata: second\n\n");
        assertEquals("first\nline2", s.firstEventData());
        assertEquals(2, s.dataEvents());
    }

    @Test
    void seesOpenAiAndAnthropicEndMarkers() {
        SseScanner openai = new SseScanner();
        feed(openai, "data: {}\n\n");
        assertFalse(openai.sawEnd());
        feed(openai, "data: [DONE]\n\n");
        assertTrue(openai.sawEnd());
        SseScanner anthropic = new SseScanner();
        feed(anthropic, "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n");
        assertTrue(anthropic.sawEnd());
    }

    @Test
    void longLinesKeepMultiByteCharacters() {
        SseScanner s = new SseScanner();
        String big = "é".repeat(300) + "{\"error\":\"ü\"}";
        assertEquals(1, feed(s, "data: " + big + "\n\n"));
        assertEquals(big, s.firstEventData());
    }

    @Test
    void longLinesAreHandled() {
        SseScanner s = new SseScanner();
        String big = "x".repeat(10_000);
        assertEquals(1, feed(s, "data: " + big + "\n\n"));
        assertEquals(big, s.firstEventData());
    }
}
