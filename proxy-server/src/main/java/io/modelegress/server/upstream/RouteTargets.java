package io.modelegress.server.upstream;

import io.modelegress.core.breaker.CircuitBreaker;
import io.modelegress.core.config.RouteSettings;
import io.modelegress.core.config.RouteTarget;
import io.modelegress.core.error.EgressException;
import io.modelegress.core.error.ErrorCode;
import io.modelegress.core.time.Durations;
import java.time.Duration;
import java.util.List;

/** A route's upstream list as its breakers see it: which entry may take the next attempt, and what to say when none. */
final class RouteTargets {
    private RouteTargets() {}

    /** The first entry from {@code from} whose breaker admits an attempt (taking a half-open probe slot), or -1. */
    static int acquireFrom(ExchangeContext rt, RouteSettings route, int from) {
        List<RouteTarget> targets = route.upstreams();
        for (int i = from; i < targets.size(); i++) {
            if (rt.upstream(targets.get(i).upstream()).breaker.tryAcquire()) return i;
        }
        return -1;
    }

    /** Whether an entry from {@code from} on is not ejected (a peek: takes no probe slot). */
    static boolean anyAdmittedFrom(ExchangeContext rt, RouteSettings route, int from) {
        List<RouteTarget> targets = route.upstreams();
        for (int i = from; i < targets.size(); i++) {
            if (rt.upstream(targets.get(i).upstream()).breaker.state() != CircuitBreaker.State.OPEN) return true;
        }
        return false;
    }

    /** Every upstream of the route is ejected: fail at once, and say when the first one is probed again. */
    static EgressException unavailable(ExchangeContext rt, RouteSettings route) {
        Duration soonest = null;
        StringBuilder states = new StringBuilder();
        for (RouteTarget t : route.upstreams()) {
            Duration open = rt.upstream(t.upstream()).breaker.remainingOpen();
            if (soonest == null || open.compareTo(soonest) < 0) soonest = open;
            if (states.length() > 0) states.append(", ");
            states.append(t.upstream()).append(" (ejected for ").append(Durations.format(open)).append(')');
        }
        return new EgressException(ErrorCode.UPSTREAM_UNAVAILABLE, "every upstream of route \"" + route.name()
                + "\" is ejected by its circuit breaker after repeated failures: " + states,
                soonest == null || soonest.isZero() ? Duration.ofSeconds(1) : soonest, null);
    }
}
