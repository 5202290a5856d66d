package io.modelegress.core.sse;

import java.nio.charset.StandardCharsets;

/**
 * Watches an SSE byte stream as it passes, without holding it: counts data-carrying events (comments and
 * {@code event: ping} keep-alives are not progress), keeps the first event's data (to spot an in-band error before
 * the commit point), and notices the end markers ({@code data: [DONE]}, Anthropic's {@code message_stop}).
 * Feed it bytes in order; it is not thread-safe (one per response, on its event loop).
 */
public final class SseScanner {
    private static final int MAX_LINE = 64 * 1024;

    private final byte[] line = new byte[256];
    private int lineLen;
    private boolean lineOverflow;
    private boolean lastWasCr;
    private final StringBuilder firstData = new StringBuilder();
    private boolean firstDataDone;

    private boolean eventHasData;
    private boolean eventIsPing;
    private StringBuilder eventData;
    private String eventType;

    private long dataEvents;
    private final StreamCompletion completion = new StreamCompletion();
    private java.util.function.Consumer<String> eventListener;
    private StringBuilder allData;
    private boolean done;
    /** The bytes of a line longer than {@code line}: kept as bytes so multi-byte UTF-8 decodes correctly. */
    private final java.io.ByteArrayOutputStream longLine = new java.io.ByteArrayOutputStream();

    /** Also hands the data of every data-carrying event to {@code listener} (costs a string per event: opt in). */
    public SseScanner onEvent(java.util.function.Consumer<String> listener) {
        this.eventListener = listener;
        return this;
    }

    /** Data-carrying events completed so far. */
    public long dataEvents() { return dataEvents; }

    /** The data of the first data-carrying event (null until it completes). */
    public String firstEventData() { return firstDataDone ? firstData.toString() : null; }

    /** True once the stream's end marker was seen. */
    public boolean sawEnd() { return done; }

    /** True when the bytes so far end between events: nothing of a half-sent event or line is pending. */
    public boolean atEventBoundary() { return lineLen == 0 && !lineOverflow && !eventHasData && eventType == null; }

    /** Whether the stream, ending now, was finished by its upstream. */
    public StreamCompletion completion() { return completion; }

    /** Scans bytes; returns the number of data-carrying events that completed in them. */
    public int feed(byte[] bytes, int offset, int length) {
        int completed = 0;
        for (int i = offset; i < offset + length; i++) {
            if (accept(bytes[i])) completed++;
        }
        return completed;
    }

    /** Scans one byte (for callers that walk a buffer in place); true when it completed a data-carrying event. */
    public boolean accept(byte b) {
        if (b == '\n' && lastWasCr) {
            lastWasCr = false;
            return false;
        }
        lastWasCr = b == '\r';
        if (b == '\n' || b == '\r') return endOfLine();
        if (lineLen < line.length) {
            line[lineLen++] = b;
        } else if (longLine.size() < MAX_LINE) {
            if (longLine.size() == 0) longLine.write(line, 0, lineLen);
            longLine.write(b);
            lineOverflow = true;
        }
        return false;
    }

    /** Handles one complete line; true when it ended a data-carrying event. */
    private boolean endOfLine() {
        String text = lineOverflow ? longLine.toString(StandardCharsets.UTF_8) : null;
        int len = lineLen;
        lineLen = 0;
        lineOverflow = false;
        longLine.reset();
        if (len == 0 && text == null) return dispatch();
        if (line[0] == ':') return false; // comment: keep-alive, not progress
        String l = text != null ? text : new String(line, 0, len, StandardCharsets.UTF_8);
        int colon = l.indexOf(':');
        String field = colon < 0 ? l : l.substring(0, colon);
        String value = colon < 0 ? "" : l.substring(colon + 1);
        if (value.startsWith(" ")) value = value.substring(1);
        if (field.equals("event")) {
            eventType = value;
            eventIsPing = value.equals("ping");
        } else if (field.equals("data")) {
            eventHasData = true;
            if (!firstDataDone) {
                if (eventData == null) eventData = new StringBuilder();
                if (eventData.length() > 0) eventData.append('\n');
                if (eventData.length() < MAX_LINE) eventData.append(value);
            }
            if (value.equals("[DONE]")) done = true;
            completion.onData(eventType, value);
            if (eventListener != null) {
                if (allData == null) allData = new StringBuilder();
                if (allData.length() > 0) allData.append('\n');
                if (allData.length() < MAX_LINE) allData.append(value);
            }
        }
        return false;
    }

    private boolean dispatch() {
        boolean progress = eventHasData && !eventIsPing;
        if ("message_stop".equals(eventType)) done = true;
        if (eventListener != null && allData != null) {
            if (progress) eventListener.accept(allData.toString());
            allData.setLength(0);
        }
        if (progress) {
            dataEvents++;
            if (!firstDataDone) {
                firstData.append(eventData == null ? "" : eventData);
                firstDataDone = true;
            }
        }
        eventHasData = false;
        eventIsPing = false;
        eventType = null;
        eventData = null;
        return progress;
    }
}
