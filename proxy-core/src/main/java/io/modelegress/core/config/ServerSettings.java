package io.modelegress.core.config;

import java.time.Duration;

/**
 * The {@code server} block: where we listen and how we protect ourselves from the agent side.
 * {@code maxBufferedBytes} 0 means derived from the direct-memory limit (half of it).
 * {@code maxConnections} and {@code adminMaxConnections}: open connections per port, 0 = no cap.
 * {@code responsesAffinity}: the follow-ups of stateful Responses API responses stay on the upstream that made them.
 */
public record ServerSettings(HostPort listen, HostPort admin, long maxRequestBody, int maxHeaderSize,
                             Duration idleTimeout, Duration requestReadTimeout,
                             Duration shutdownDelay, Duration drainTimeout,
                             int maxConnections, int adminMaxConnections,
                             long maxBufferedBytes, long maxUncommittedBytes,
                             ResponsesAffinitySettings responsesAffinity) {
    /** With the default {@code responses_affinity}. */
    public ServerSettings(HostPort listen, HostPort admin, long maxRequestBody, int maxHeaderSize, Duration idleTimeout,
                          Duration requestReadTimeout, Duration shutdownDelay, Duration drainTimeout, int maxConnections,
                          int adminMaxConnections, long maxBufferedBytes, long maxUncommittedBytes) {
        this(listen, admin, maxRequestBody, maxHeaderSize, idleTimeout, requestReadTimeout, shutdownDelay, drainTimeout,
                maxConnections, adminMaxConnections, maxBufferedBytes, maxUncommittedBytes, ResponsesAffinitySettings.DEFAULTS);
    }
}
