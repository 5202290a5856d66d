package io.modelegress.server.pipeline;

/** Pipeline handler names, so handlers can be found, replaced and removed by name. */
public final class HandlerNames {
    private HandlerNames() {}

    // Downstream (agent side), in pipeline order.
    /** Before the codec: starts the request-read clock at a request's first byte (part of the guard). */
    public static final String FIRST_BYTE = "first-byte";
    public static final String HTTP_CODEC = "http-codec";
    public static final String GUARD = "downstream-guard";
    public static final String BODY = "request-body";
    public static final String DISPATCH = "dispatch";

    // Upstream (provider side), in pipeline order.
    public static final String PROXY_TLS = "proxy-tls";
    public static final String PROXY = "proxy";
    public static final String TLS = "tls";
    public static final String CLIENT_CODEC = "client-codec";
    /** Last: keeps the pool's books and hands each response message to the leasing exchange's relay. */
    public static final String POOL_WATCH = "pool-watch";
}
