package io.modelegress.core.config;

import java.time.Duration;

/**
 * The {@code server} block: where we listen and how we protect ourselves from the agent side.
 * {@code maxBufferedBytes} 0 means derived from the direct-memory limit (half of it).
 * {@code websocketMaxMessage}: the largest WebSocket message (all its frames) relayed either way.
 * {@code uploads}: which bodies are streamed rather than held ({@code buffer_request_body_up_to},
 * {@code max_streamed_request_body}).
 * {@code maxConnections} and {@code adminMaxConnections}: open connections per port, 0 = no cap.
 * {@code responsesAffinity}: the follow-ups of stateful Responses API responses stay on the upstream that made them.
 */
public record ServerSettings(HostPort listen, HostPort admin, long maxRequestBody, int maxHeaderSize,
                             Duration idleTimeout, Duration requestReadTimeout,
                             Duration shutdownDelay, Duration drainTimeout,
                             int maxConnections, int adminMaxConnections,
                             long maxBufferedBytes, long maxUncommittedBytes,
                             ResponsesAffinitySettings responsesAffinity, long websocketMaxMessage,
                             UploadSettings uploads) {
    /** With the default {@code responses_affinity} and {@code websocket_max_message} (16 MiB). */
    public ServerSettings(HostPort listen, HostPort admin, long maxRequestBody, int maxHeaderSize, Duration idleTimeout,
                          Duration requestReadTimeout, Duration shutdownDelay, Duration drainTimeout, int maxConnections,
                          int adminMaxConnections, long maxBufferedBytes, long maxUncommittedBytes) {
        this(listen, admin, maxRequestBody, maxHeaderSize, idleTimeout, requestReadTimeout, shutdownDelay, drainTimeout,
                maxConnections, adminMaxConnections, maxBufferedBytes, maxUncommittedBytes, ResponsesAffinitySettings.DEFAULTS,
                16L << 20, UploadSettings.DEFAULTS);
    }
}
