package io.modelegress.core.ratelimit;

import java.nio.charset.StandardCharsets;

/**
 * Collects the usage a server-sent-event stream reports along the way: OpenAI in its last chunk when the request
 * set {@code stream_options.include_usage}, the Responses API in {@code response.completed}, Anthropic in
 * {@code message_start} (input) and {@code message_delta} (output so far, cumulative).
 *
 * <p>Feed it the {@code data:} payload of each event; most carry no usage and are skipped by a byte scan without
 * being parsed. Not thread-safe: one per stream, on the stream's event loop.
 */
public final class StreamUsage {
    private static final byte[] USAGE_KEY = "\"usage\"".getBytes(StandardCharsets.US_ASCII);

    private UsageParser.Fields fields;

    public void onData(String data) {
        byte[] bytes = data.getBytes(StandardCharsets.UTF_8);
        onData(bytes, 0, bytes.length);
    }

    public void onData(byte[] data, int offset, int length) {
        if (!contains(data, offset, length, USAGE_KEY)) return;
        UsageParser.Fields reported = UsageParser.parse(data, offset, length);
        if (reported != null) fields = fields == null ? reported : fields.merge(reported);
    }

    /** The usage reported so far, or null when the stream reported none (the estimate then stands). */
    public TokenCount usage() {
        return fields == null ? null : fields.toTokenCount();
    }

    private static boolean contains(byte[] data, int offset, int length, byte[] key) {
        int last = offset + length - key.length;
        outer:
        for (int i = offset; i <= last; i++) {
            for (int j = 0; j < key.length; j++) {
                if (data[i + j] != key[j]) continue outer;
            }
            return true;
        }
        return false;
    }
}
