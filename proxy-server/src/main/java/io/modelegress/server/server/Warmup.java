package io.modelegress.server.server;

import io.modelegress.server.upstream.TlsContexts;

/**
 * Start-up work that does not depend on the config — reading the JDK's CA certificates, loading the native
 * transport and the metrics registry's classes — started on a second core while the main thread reads the config.
 * Everything here is also done (or found already done) on the normal path, so a failure here changes nothing.
 */
final class Warmup {
    private Warmup() {}

    static void start() {
        Thread t = new Thread(() -> {
            try {
                TlsContexts.jdkIssuers();
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
