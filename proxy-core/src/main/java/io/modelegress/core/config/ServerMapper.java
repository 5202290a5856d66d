package io.modelegress.core.config;

/** Maps the {@code server} block: both listeners, the request limits, the buffers, the connection caps and the drain. */
final class ServerMapper {
    private ServerMapper() {}

    static ServerSettings server(Section s) {
        long maxHeader = s.bytes("max_header_size");
        if (maxHeader < 1024 || maxHeader > 1 << 20) s.problem("max_header_size", maxHeader + " bytes (expected: 1KiB to 1MiB)");
        long maxBody = s.bytes("max_request_body");
        if (maxBody < 0 || maxBody > Integer.MAX_VALUE) s.problem("max_request_body", maxBody + " bytes (expected: 0 to 2GiB)");
        long maxBuffered = "auto".equals(s.string("max_buffered_bytes")) ? 0 : s.bytes("max_buffered_bytes");
        if (maxBuffered < 0) s.problem("max_buffered_bytes", maxBuffered + " bytes (expected: auto or a size like 256MiB)");
        long maxUncommitted = s.bytes("max_uncommitted_bytes");
        if (maxUncommitted < 64 * 1024 || maxUncommitted > Integer.MAX_VALUE) {
            s.problem("max_uncommitted_bytes", maxUncommitted + " bytes (expected: 64KiB to 2GiB)");
        }
        return new ServerSettings(hostPort(s, "listen"), hostPort(s, "admin"), maxBody, (int) maxHeader,
                s.duration("idle_timeout"), s.duration("request_read_timeout"), s.duration("shutdown_delay"),
                s.duration("drain_timeout"), connectionCap(s, "max_connections"), connectionCap(s, "admin_max_connections"),
                maxBuffered, maxUncommitted, ResponsesAffinitySettings.read(s.sub("responses_affinity")), WebSocketLimits.maxMessage(s),
                UploadSettings.read(s));
    }

    private static int connectionCap(Section s, String k) {
        long v = s.integer(k, 0);
        if (v > Integer.MAX_VALUE) s.problem(k, v + " (expected: 0 for no cap, or at most " + Integer.MAX_VALUE + ")");
        return (int) Math.min(v, Integer.MAX_VALUE);
    }

    private static HostPort hostPort(Section s, String k) {
        String v = s.string(k);
        HostPort hp = HostPort.parse(v);
        if (hp == null) {
            s.problem(k, "\"" + v + "\" (expected: host:port, like 127.0.0.1:8080 or [::1]:8080)");
            return new HostPort("127.0.0.1", 0);
        }
        return hp;
    }
}
