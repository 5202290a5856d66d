package io.modelegress.core.proxy;

import io.modelegress.core.time.Ticker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Proxies that failed to connect are ejected for {@code proxy.eject_for}, so the next connections go straight to the
 * next entry of the failover list instead of paying the same timeout again. Thread-safe; time through the ticker.
 */
public final class ProxyEjections {
    private final Ticker ticker;
    private final long ejectNanos;
    private final Map<String, Long> ejectedUntil = new ConcurrentHashMap<>();

    public ProxyEjections(Ticker ticker, Duration ejectFor) {
        this.ticker = ticker;
        this.ejectNanos = ejectFor.toNanos();
    }

    /**
     * The order to try {@code steps} in: those not ejected first, in their order, then the ejected ones (soonest
     * back first) as a last resort, so a request is never refused without a try when every proxy is out.
     */
    public List<ProxyStep> order(List<ProxyStep> steps) {
        if (steps.size() <= 1 || ejectedUntil.isEmpty()) return steps;
        long now = ticker.nanos();
        List<ProxyStep> healthy = new ArrayList<>(steps.size());
        List<ProxyStep> ejected = new ArrayList<>(1);
        for (ProxyStep s : steps) (isEjected(s, now) ? ejected : healthy).add(s);
        if (ejected.isEmpty()) return steps;
        ejected.sort((a, b) -> Long.compare(until(a), until(b)));
        healthy.addAll(ejected);
        return healthy;
    }

    /** The proxy failed at connect: out of rotation until now + eject_for. DIRECT is never ejected. */
    public void eject(ProxyStep step) {
        if (step.isDirect() || ejectNanos <= 0) return;
        ejectedUntil.put(step.label(), ticker.nanos() + ejectNanos);
    }

    /** The proxy worked: back in rotation at once. */
    public void restore(ProxyStep step) {
        if (!step.isDirect()) ejectedUntil.remove(step.label());
    }

    public boolean isEjected(ProxyStep step) {
        return isEjected(step, ticker.nanos());
    }

    /** Nanoseconds until the step is back, 0 when it is in rotation. */
    public long remainingNanos(ProxyStep step) {
        return Math.max(0, until(step) - ticker.nanos());
    }

    private boolean isEjected(ProxyStep step, long now) {
        if (step.isDirect()) return false;
        Long until = ejectedUntil.get(step.label());
        if (until == null) return false;
        if (until - now > 0) return true;
        ejectedUntil.remove(step.label(), until);
        return false;
    }

    private long until(ProxyStep step) {
        Long until = ejectedUntil.get(step.label());
        return until == null ? Long.MIN_VALUE : until;
    }
}
