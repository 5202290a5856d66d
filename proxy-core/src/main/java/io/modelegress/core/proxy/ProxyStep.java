package io.modelegress.core.proxy;

/**
 * One entry of a proxy failover list: a proxy, or DIRECT ({@code proxy} null), and where it came from
 * ({@code PAC "PROXY a:3128"}, {@code proxy.https[1]}), for explain-proxy, doctor and the metrics.
 */
public record ProxyStep(ProxyUrl proxy, String source) {
    public ProxyStep {
        if (source == null || source.isEmpty()) throw new IllegalArgumentException("source: empty (expected: where the entry came from)");
    }

    public static ProxyStep direct(String source) {
        return new ProxyStep(null, source);
    }

    public boolean isDirect() {
        return proxy == null;
    }

    /** {@code DIRECT} or the masked proxy URL: the form used as a metric label and in doctor. */
    public String label() {
        return proxy == null ? "DIRECT" : proxy.masked();
    }

    @Override
    public String toString() {
        return label() + " (" + source + ")";
    }
}
