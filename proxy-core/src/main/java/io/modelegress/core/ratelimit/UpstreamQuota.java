package io.modelegress.core.ratelimit;

import java.util.EnumMap;
import java.util.Iterator;
import java.util.Map;

/**
 * What the upstream itself told us: a cooldown after a 429, and its remaining quotas. Both hold back new starts
 * for the whole queue, so the agents take one cooldown together instead of each retrying into the wall.
 *
 * <p>Not thread-safe: guarded by the owning limiter's lock.
 */
final class UpstreamQuota {
    private long pausedUntilNanos = Long.MIN_VALUE;
    private final Map<QuotaKind, UpstreamWindow> windows = new EnumMap<>(QuotaKind.class);

    void pauseUntil(long nanos) {
        pausedUntilNanos = Math.max(pausedUntilNanos, nanos);
    }

    long pausedUntilNanos() {
        return pausedUntilNanos;
    }

    /** Whether nothing the upstream said holds a start at {@code nowNanos}: no pause running, no quota known. */
    boolean holdsNothing(long nowNanos) {
        forgetResetWindows(nowNanos);
        return pausedUntilNanos <= nowNanos && windows.isEmpty();
    }

    /** The newest reading of a quota replaces the older one; quotas it does not mention are kept. */
    void observe(RateLimitSnapshot snapshot) {
        snapshot.readings().forEach((kind, reading) -> windows.put(kind, new UpstreamWindow(reading)));
    }

    /**
     * How long a request needing {@code need} waits on the upstream's word, behind {@code aheadRequests} requests
     * needing {@code aheadTokens} in all.
     */
    WaitEstimate estimate(long nowNanos, TokenCount need, long aheadRequests, TokenCount aheadTokens) {
        forgetResetWindows(nowNanos);
        WaitEstimate wait = WaitEstimate.NONE;
        if (pausedUntilNanos > nowNanos) wait = wait.max(pausedUntilNanos - nowNanos, "the upstream's 429 cooldown");
        for (Map.Entry<QuotaKind, UpstreamWindow> e : windows.entrySet()) {
            QuotaKind kind = e.getKey();
            long ahead = kind == QuotaKind.REQUESTS ? aheadRequests : kind.cost(aheadTokens);
            long nanos = e.getValue().nanosUntil(nowNanos, ahead + kind.cost(need));
            wait = wait.max(nanos, kind.waitReason());
        }
        return wait;
    }

    /** Charges a start against every quota we know of. */
    void debit(long nowNanos, TokenCount estimate) {
        forgetResetWindows(nowNanos);
        windows.forEach((kind, window) -> window.debit(kind.cost(estimate)));
    }

    private void forgetResetWindows(long nowNanos) {
        for (Iterator<UpstreamWindow> it = windows.values().iterator(); it.hasNext(); ) {
            if (it.next().isOver(nowNanos)) it.remove();
        }
    }
}
