package io.modelegress.core.config;

import java.time.Duration;

/** The WebSocket passthrough's own keys ({@code server.websocket_max_message}, {@code timeouts.websocket_idle}), checked. */
final class WebSocketLimits {
    /** Netty's frame decoder takes an int; a message past 1 GiB is no Realtime event. */
    private static final long MAX = 1L << 30;

    private WebSocketLimits() {}

    static long maxMessage(Section s) {
        long v = s.bytes("websocket_max_message");
        if (v < 1024 || v > MAX) s.problem("websocket_max_message", v + " bytes (expected: 1KiB to 1GiB, like 16MiB)");
        return Math.max(1024, Math.min(v, MAX));
    }

    static Duration idle(Section s) {
        Duration d = s.duration("websocket_idle");
        if (d.isZero()) s.problem("websocket_idle", "0 (expected: a duration > 0, like 300s)");
        return d.isZero() ? Duration.ofSeconds(300) : d;
    }

    /** A per-upstream or per-route override: null inherits. */
    static Duration idleOrNull(Section s) { return s.has("websocket_idle") ? idle(s) : null; }
}
