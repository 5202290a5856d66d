package io.modelegress.server.ops;

import io.modelegress.server.runtime.Transport;
import io.modelegress.server.upstream.TlsContexts;

/**
 * Start-up work that does not depend on the config, done on a second thread while the main thread reads the
 * config: the TLS client context on the JDK's CA certificates (the longest), then the native transport, the
 * metrics registry and the HTTP codec classes. Everything here is also done (or found already done) on the normal
 * path, so a failure here changes nothing. (Configuring logging here too was tried: slower, and SLF4J then
 * replays the early log calls with a warning.)
 */
public final class Warmup {
    private Warmup() {}

    public static void start() {
        Thread t = new Thread(() -> {
            try {
                TlsContexts.client(null);
                Transport.best();
                new io.micrometer.prometheusmetrics.PrometheusMeterRegistry(io.micrometer.prometheusmetrics.PrometheusConfig.DEFAULT).close();
                new io.netty.handler.codec.http.HttpServerCodec();
            } catch (Throwable ignored) {
                // the normal path does the same work and reports what fails
            }
        }, "egress-warmup");
        t.setDaemon(true);
        t.start();
    }
}
