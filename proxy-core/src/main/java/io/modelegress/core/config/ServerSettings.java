package io.modelegress.core.config;

import java.time.Duration;

/** The {@code server} block: where we listen and how we protect ourselves from the agent side. */
public record ServerSettings(HostPort listen, HostPort admin, long maxRequestBody, int maxHeaderSize,
                             Duration idleTimeout, Duration requestReadTimeout,
                             Duration shutdownDelay, Duration drainTimeout) {
}
