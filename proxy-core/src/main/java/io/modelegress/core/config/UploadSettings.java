package io.modelegress.core.config;

/**
 * Streamed request bodies (uploads: Files, Batch, audio), part of the {@code server} block. A body larger than
 * {@code bufferRequestBodyUpTo} (by its Content-Length, or once a chunked one grows past it) is streamed to the
 * upstream instead of held, up to {@code maxStreamedRequestBody}; {@code maxStreamedRequestBody} 0 turns streaming
 * off (every body is held, within {@code server.max_request_body}, as before).
 */
public record UploadSettings(long bufferRequestBodyUpTo, long maxStreamedRequestBody) {
    /** The shipped defaults: bodies over 1 MiB streamed, up to 1 GiB. */
    public static final UploadSettings DEFAULTS = new UploadSettings(1L << 20, 1L << 30);

    public boolean streams() { return maxStreamedRequestBody > 0; }

    /** Reads the two keys of the {@code server} block; called once from {@link ConfigMapper}. */
    static UploadSettings read(Section s) {
        long upTo = s.bytes("buffer_request_body_up_to");
        if (upTo < 0 || upTo > Integer.MAX_VALUE) {
            s.problem("buffer_request_body_up_to", upTo + " bytes (expected: 0 to 2GiB, like 1MiB)");
        }
        long max = s.bytes("max_streamed_request_body");
        if (max < 0) s.problem("max_streamed_request_body", max + " bytes (expected: 0 for no streaming, or a size like 1GiB)");
        else if (max > 0 && max < upTo) {
            s.problem("max_streamed_request_body", max + " bytes is below server.buffer_request_body_up_to (" + upTo
                    + " bytes) (expected: 0 for no streaming, or at least buffer_request_body_up_to)");
        }
        return new UploadSettings(Math.max(0, Math.min(upTo, Integer.MAX_VALUE)), Math.max(0, max));
    }
}
