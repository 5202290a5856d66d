package io.modelegress.core.ratelimit;

import java.io.ByteArrayOutputStream;

/**
 * What one response says it used, to correct the token estimate the limiter charged before it started: from the
 * events of a stream ({@link StreamUsage}, fed the data of each event) or from a plain body (kept up to 1 MiB, parsed
 * once at the end). Only made when the upstream has {@code tokens_per_minute}. One per response, on its event loop.
 */
public final class ResponseUsage {
    private static final int MAX_BODY = 1 << 20;

    private final StreamUsage stream;
    private final ByteArrayOutputStream body;

    private ResponseUsage(boolean sse) {
        this.stream = sse ? new StreamUsage() : null;
        this.body = sse ? null : new ByteArrayOutputStream();
    }

    public static ResponseUsage forStream() { return new ResponseUsage(true); }

    public static ResponseUsage forBody() { return new ResponseUsage(false); }

    /** The data of one event of a stream. */
    public void onEvent(String data) {
        if (stream != null) stream.onData(data);
    }

    /** Whether {@link #onBody} wants more bytes. */
    public boolean wantsBody() { return body != null && body.size() < MAX_BODY; }

    /** Bytes of a plain body, in order. */
    public void onBody(byte[] bytes) {
        if (wantsBody()) body.writeBytes(bytes);
    }

    /** The usage the response reported, or null (the estimate then stands). */
    public TokenCount usage() {
        if (stream != null) return stream.usage();
        return body.size() > 0 ? UsageParser.fromBody(body.toByteArray()) : null;
    }
}
