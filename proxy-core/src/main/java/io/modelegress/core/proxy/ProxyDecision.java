package io.modelegress.core.proxy;

/**
 * Where one upstream connection goes: through {@link #proxy()}, direct (proxy null), or nowhere because the proxy
 * setting that applies is unusable ({@link #failed()}): going direct instead would hide the misconfiguration
 * behind connect timeouts in a network that only allows the proxy.
 * {@link #reason()} says which setting or variable decided, for explain-proxy and error messages; it never holds a password.
 */
public record ProxyDecision(ProxyUrl proxy, String reason, boolean failed) {
    public ProxyDecision {
        if (reason == null || reason.isEmpty()) throw new IllegalArgumentException("reason: empty (expected: why)");
        if (failed && proxy != null) throw new IllegalArgumentException("a failed decision has no proxy");
    }

    public static ProxyDecision direct(String reason) {
        return new ProxyDecision(null, reason, false);
    }

    public static ProxyDecision via(ProxyUrl proxy, String reason) {
        if (proxy == null) throw new IllegalArgumentException("proxy: null (expected: a proxy for a via decision)");
        return new ProxyDecision(proxy, reason, false);
    }

    public static ProxyDecision failed(String reason) {
        return new ProxyDecision(null, reason, true);
    }

    public boolean isDirect() {
        return proxy == null && !failed;
    }

    @Override
    public String toString() {
        if (failed) return "failed: " + reason;
        return (proxy == null ? "direct" : "via " + proxy.masked()) + ": " + reason;
    }
}
