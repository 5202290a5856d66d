package io.modelegress.core.error;

/**
 * The error catalogue: every answer the sidecar makes itself has exactly one of these codes.
 * Stable code (wire contract), HTTP status, whether another attempt can help, and what the operator should check.
 */
public enum ErrorCode {
    ROUTE_NOT_FOUND("route_not_found", 404, false, "check the request path against the configured routes"),
    METHOD_NOT_ALLOWED("method_not_allowed", 405, false, "the sidecar is not an open proxy: send origin-form requests to a configured route"),
    BAD_REQUEST("bad_request", 400, false, "the request could not be parsed, or its path cannot be forwarded safely (see docs/configuration.md, Paths): fix the client's request"),
    REQUEST_TOO_LARGE("request_too_large", 413, false, "raise server.max_request_body or send a smaller body"),
    REQUEST_READ_TIMEOUT("request_read_timeout", 408, false, "the agent sent its request too slowly; see server.request_read_timeout"),
    URI_TOO_LONG("uri_too_long", 414, false, "send a shorter request line"),
    HEADERS_TOO_LARGE("request_header_fields_too_large", 431, false, "send fewer or smaller headers"),
    CREDENTIAL_MISSING("credential_missing", 500, false, "set the environment variable or credential file named in the message and reload"),
    DNS_RESOLUTION_FAILED("dns_resolution_failed", 502, true, "check the host name and the pod's DNS configuration"),
    DNS_TIMEOUT("dns_timeout", 504, true, "check that the DNS servers (dns.servers or resolv.conf) are reachable"),
    UPSTREAM_CONNECT_REFUSED("upstream_connect_refused", 502, true, "check that the upstream is listening on that port"),
    UPSTREAM_CONNECT_TIMEOUT("upstream_connect_timeout", 504, true, "check egress rules (NetworkPolicy, firewall) and whether a proxy is required"),
    PROXY_UNREACHABLE("proxy_unreachable", 502, true, "check the proxy address (proxy.https / HTTPS_PROXY)"),
    PROXY_CONNECT_TIMEOUT("proxy_connect_timeout", 504, true, "check egress rules to the proxy and the proxy's health"),
    PROXY_AUTH_REQUIRED("proxy_auth_required", 502, false, "set proxy credentials (proxy.https or HTTPS_PROXY user:pass)"),
    PROXY_REJECTED("proxy_rejected", 502, false, "check the proxy's access rules for this destination"),
    TLS_HANDSHAKE_FAILED("tls_handshake_failed", 502, false, "check the upstream certificate; behind a TLS-inspecting proxy set tls.ca_bundle"),
    TLS_HANDSHAKE_TIMEOUT("tls_handshake_timeout", 504, true, "check that the port speaks TLS and the path is not black-holed"),
    UPSTREAM_RESPONSE_TIMEOUT("upstream_response_timeout", 504, false, "the upstream accepted the request but sent no response headers in time; raise timeouts.response_headers for slow models"),
    FIRST_TOKEN_TIMEOUT("first_token_timeout", 504, false, "the upstream sent headers but no data in time; raise timeouts.first_token"),
    UPSTREAM_RESET("upstream_reset", 502, true, "the upstream closed the connection early; check upstream health and idle timeouts"),
    UPSTREAM_PROTOCOL_ERROR("upstream_protocol_error", 502, true, "the upstream's answer broke HTTP/1.1 framing (malformed head or chunk, unsolicited 101); check the upstream server and anything in front of it"),
    STREAM_IDLE_TIMEOUT("stream_idle_timeout", 504, false, "the stream went silent; raise timeouts.stream_idle for slow models"),
    REQUEST_DEADLINE_EXCEEDED("request_deadline_exceeded", 504, false, "the whole request deadline ran out; raise timeouts.request or x-egress-timeout"),
    RATE_LIMITED("rate_limited", 429, true, "the sidecar's own limits (upstreams.*.limits) could not start the request in time"),
    UPSTREAM_UNAVAILABLE("upstream_unavailable", 503, true, "every upstream of the route is ejected by its circuit breaker; check upstream health"),
    OVERLOADED("overloaded", 503, true, "the request bodies the sidecar holds reached server.max_buffered_bytes; the agent retries after retry-after, or raise the limit (and -XX:MaxDirectMemorySize)"),
    SHUTTING_DOWN("shutting_down", 503, true, "the sidecar is draining for shutdown; retry on the next instance"),
    INTERNAL_ERROR("internal_error", 500, false, "a bug in the sidecar: report it with the x-request-id"),
    CREDENTIAL_INVALID("credential_invalid", 500, false, "fix the credential named in the message (one line of printable text) and reload"),
    PROXY_PAC_FAILED("proxy_pac_failed", 502, false, "the PAC file (proxy.pac) could not be fetched or evaluated for this host; see doctor and explain-proxy"),
    UPSTREAM_STREAM_ERROR("upstream_stream_error", 502, true, "the upstream ended a stream it had started with an error event, on a route that resumes in-band errors (resume.on: inband_error); check the upstream's health and the message it gave"),
    WEBSOCKET_NOT_ALLOWED("websocket_not_allowed", 400, false, "a WebSocket upgrade on a route without websocket: true; set it on the route that should pass Realtime sessions (docs/realtime.md)"),
    UPSTREAM_WEBSOCKET_REFUSED("upstream_websocket_refused", 502, false, "the upstream answered the WebSocket upgrade with something other than a valid 101 (not a WebSocket endpoint, or a wrong accept key or subprotocol); check the route's path and the upstream URL");

    private final String code;
    private final int status;
    private final boolean retryable;
    private final String hint;

    ErrorCode(String code, int status, boolean retryable, String hint) {
        this.code = code;
        this.status = status;
        this.retryable = retryable;
        this.hint = hint;
    }

    /** The stable wire code, as sent in {@code x-egress-error}. */
    public String code() { return code; }

    public int status() { return status; }

    /** Whether another attempt (by us or by the agent) can help. */
    public boolean retryable() { return retryable; }

    /** What the operator should check. */
    public String hint() { return hint; }

    /** Failures before anything reached the upstream: always safe to retry. */
    public boolean isConnectPhase() {
        switch (this) {
            case DNS_RESOLUTION_FAILED: case DNS_TIMEOUT: case UPSTREAM_CONNECT_REFUSED: case UPSTREAM_CONNECT_TIMEOUT:
            case PROXY_UNREACHABLE: case PROXY_CONNECT_TIMEOUT: case PROXY_AUTH_REQUIRED: case PROXY_REJECTED:
            case TLS_HANDSHAKE_FAILED: case TLS_HANDSHAKE_TIMEOUT:
                return true;
            default:
                return false;
        }
    }

    public boolean isTimeout() {
        return this == UPSTREAM_RESPONSE_TIMEOUT || this == FIRST_TOKEN_TIMEOUT || this == STREAM_IDLE_TIMEOUT;
    }

    public static ErrorCode fromCode(String code) {
        for (ErrorCode c : values()) {
            if (c.code.equals(code)) return c;
        }
        throw new IllegalArgumentException("unknown error code: " + code);
    }
}
