package io.modelegress.core.config;

import java.time.Duration;

/**
 * The {@code server} block: where we listen and how we protect ourselves from the agent side.
 * {@code maxBufferedBytes} 0 means derived from the direct-memory limit (half of it).
 * {@code uploads}: which bodies are streamed rather than held ({@code buffer_request_body_up_to},
 * {@code max_streamed_request_body}).
 * {@code maxConnections} and {@code adminMaxConnections}: open connections per port, 0 = no cap.
 */
public record ServerSettings(HostPort listen, HostPort admin, long maxRequestBody, int maxHeaderSize,
                             Duration idleTimeout, Duration requestReadTimeout,
                             Duration shutdownDelay, Duration drainTimeout,
                             int maxConnections, int adminMaxConnections,
                             long maxBufferedBytes, long maxUncommittedBytes,
                             UploadSettings uploads) {
}
