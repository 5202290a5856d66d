package io.modelegress.server.http;

/** Pipeline handler names, so handlers can be found, replaced and removed by name. */
public final class HandlerNames {
    private HandlerNames() {}

    // Downstream (agent side), in pipeline order.
    /** Before the codec: starts the request-read clock at a request's first byte (part of the guard). */
    public static final String FIRST_BYTE = "first-byte";
    public static final String HTTP_CODEC = "http-codec";
    /** Also closes an agent connection with nothing in flight after server.idle_timeout. */
    public static final String GUARD = "downstream-guard";
    public static final String BODY = "request-body";
    /** Ahead of {@link #BODY}: takes the bodies that are streamed rather than held. */
    public static final String UPLOAD = "request-upload";
    public static final String DISPATCH = "dispatch";

    // Upstream (provider side), in pipeline order.
    public static final String PROXY_TLS = "proxy-tls";
    public static final String PROXY = "proxy";
    public static final String TLS = "tls";
    public static final String CLIENT_CODEC = "client-codec";
    /** Last: keeps the pool's books and hands each response message to the leasing exchange's relay. */
    public static final String POOL_WATCH = "pool-watch";
    /**
     * An h2 connection's idle handler (pool.idle_timeout with no stream). An HTTP/1.1 connection has none: its
     * pool watch times its stay in the pool.
     */
    public static final String POOL_IDLE = "pool-idle";
}
