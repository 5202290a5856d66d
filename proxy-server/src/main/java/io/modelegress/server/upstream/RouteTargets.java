package io.modelegress.server.upstream;

import io.modelegress.core.config.RouteSettings;
import io.modelegress.core.config.RouteTarget;
import io.modelegress.core.error.EgressException;
import io.modelegress.core.error.ErrorCode;
import io.modelegress.core.time.Durations;
import io.modelegress.server.http.RequestContext;
import io.netty.handler.codec.http.FullHttpRequest;
import java.time.Duration;
import java.util.List;

/**
 * A route's upstream list as its breakers see it: which entry may take the next attempt, and what to say when none.
 * An entry is out when its upstream is ejected, or the (upstream, model) pair of the request's model is. A stateful
 * follow-up pinned to one entry ({@link ResponsePins}) sees that entry only.
 */
final class RouteTargets {
    private RouteTargets() {}

    /** The first entry from {@code from} whose breakers admit the request (taking a half-open probe slot), or -1. */
    static int acquireFrom(ExchangeContext rt, RequestContext rc, FullHttpRequest request, int from) {
        List<RouteTarget> targets = rc.route.upstreams();
        int to = targets.size();
        if (rc.pinnedTarget >= 0) {
            if (from > rc.pinnedTarget) return -1;
            from = rc.pinnedTarget;
            to = from + 1;
        }
        for (int i = from; i < to; i++) {
            RouteTarget t = targets.get(i);
            if (rt.upstream(t.upstream()).breakers.tryAcquire(RequestModels.of(request, rc, t))) return i;
        }
        return -1;
    }

    /** Whether an entry from {@code from} on is not ejected for the request (a peek: takes no probe slot). */
    static boolean anyAdmittedFrom(ExchangeContext rt, RequestContext rc, FullHttpRequest request, int from) {
        if (rc.pinnedTarget >= 0) return false; // only ever asked about the entries after the current one
        List<RouteTarget> targets = rc.route.upstreams();
        for (int i = from; i < targets.size(); i++) {
            RouteTarget t = targets.get(i);
            if (rt.upstream(t.upstream()).breakers.admits(RequestModels.of(request, rc, t))) return true;
        }
        return false;
    }

    /** Every upstream of the route is ejected for the request: fail at once, and say when the first one is probed again. */
    static EgressException unavailable(ExchangeContext rt, RequestContext rc, FullHttpRequest request) {
        RouteSettings route = rc.route;
        Duration soonest = null;
        StringBuilder states = new StringBuilder();
        List<RouteTarget> targets = rc.pinnedTarget < 0 ? route.upstreams() : List.of(route.upstreams().get(rc.pinnedTarget));
        for (RouteTarget t : targets) {
            UpstreamState u = rt.upstream(t.upstream());
            Duration open = u.breakers.remainingOpen(RequestModels.of(request, rc, t));
            if (soonest == null || open.compareTo(soonest) < 0) soonest = open;
            if (states.length() > 0) states.append(", ");
            states.append(t.upstream());
            if (!u.breaker.isEjected() && rc.bodyModel != null) states.append(" for model \"").append(t.model() != null ? t.model() : rc.bodyModel).append('"');
            states.append(" (ejected for ").append(Durations.format(open)).append(')');
        }
        EgressException e = new EgressException(ErrorCode.UPSTREAM_UNAVAILABLE, (rc.pinnedTarget < 0 ? "every upstream of route \""
                + route.name() + "\" is" : "the upstream this request must go to is") + " ejected by its circuit breaker after repeated failures: "
                + states + "; see /debug/breakers", soonest == null || soonest.isZero() ? Duration.ofSeconds(1) : soonest, null);
        return ResponsePins.explain(e, rc);
    }
}
