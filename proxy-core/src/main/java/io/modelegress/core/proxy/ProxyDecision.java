package io.modelegress.core.proxy;

import java.util.List;

/**
 * Where one upstream connection goes: through {@link #proxy()}, direct (proxy null), or nowhere because the proxy
 * setting that applies is unusable ({@link #failed()}): going direct instead would hide the misconfiguration
 * behind connect timeouts in a network that only allows the proxy.
 * {@link #steps()} is the failover list in order (a single step for one proxy or direct); {@link #proxy()} is its
 * first entry. {@link #pac()} means "ask the PAC file": the server evaluates it (off the event loop) and turns the
 * answer into a decision with {@link #fromPac}.
 * {@link #reason()} says which setting or variable decided, for explain-proxy and error messages; it never holds a password.
 */
public record ProxyDecision(ProxyUrl proxy, String reason, boolean failed, List<ProxyStep> steps, boolean pac) {
    public ProxyDecision {
        if (reason == null || reason.isEmpty()) throw new IllegalArgumentException("reason: empty (expected: why)");
        if (failed && proxy != null) throw new IllegalArgumentException("a failed decision has no proxy");
        steps = List.copyOf(steps);
    }

    public ProxyDecision(ProxyUrl proxy, String reason, boolean failed) {
        this(proxy, reason, failed, failed ? List.of() : List.of(new ProxyStep(proxy, reason)), false);
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

    /** A failover list: tried in order on connect-phase failures of each proxy. */
    public static ProxyDecision chain(List<ProxyStep> steps, String reason) {
        if (steps.isEmpty()) throw new IllegalArgumentException("steps: empty (expected: at least one proxy or DIRECT)");
        return new ProxyDecision(steps.get(0).proxy(), reason, false, steps, false);
    }

    /** "Evaluate proxy.pac for this target": a placeholder the server resolves. */
    public static ProxyDecision askPac(String reason) {
        return new ProxyDecision(null, reason, false, List.of(), true);
    }

    /** The PAC's answer for a target, as a decision whose reason quotes the answer. */
    public static ProxyDecision fromPac(PacAnswer answer, String pacSource) {
        String reason = "proxy.pac " + pacSource + " returned \"" + answer.text() + "\"";
        if (!answer.ignored().isEmpty()) reason += " (ignored: " + String.join("; ", answer.ignored()) + ")";
        return chain(answer.steps(), reason);
    }

    public boolean isDirect() {
        return proxy == null && !failed && !pac && steps.size() <= 1;
    }

    /** More than one entry to try. */
    public boolean hasFailover() {
        return steps.size() > 1;
    }

    @Override
    public String toString() {
        if (failed) return "failed: " + reason;
        if (pac) return "pac: " + reason;
        if (steps.size() > 1) {
            StringBuilder b = new StringBuilder("via ");
            for (int i = 0; i < steps.size(); i++) b.append(i == 0 ? "" : ", then ").append(steps.get(i).label());
            return b.append(": ").append(reason).toString();
        }
        return (proxy == null ? "direct" : "via " + proxy.masked()) + ": " + reason;
    }
}
