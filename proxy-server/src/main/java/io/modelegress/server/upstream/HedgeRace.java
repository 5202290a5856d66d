package io.modelegress.server.upstream;

import io.modelegress.core.config.RouteTarget;
import io.modelegress.server.events.ExchangeEvents;
import io.modelegress.server.http.RequestContext;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.util.concurrent.EventExecutor;
import java.util.function.BiFunction;
import java.util.function.BooleanSupplier;

/**
 * A hedge ({@code routes[].hedge_after}): a second attempt on the route's next upstream, racing the exchange's current
 * one before the commit point, with its own timers. Made only when a hedge starts; the first of the two to commit
 * wins and the other is cancelled, and when one drops out the other goes on alone. Its timers outlive the race (the
 * hedge may win and run to the end), so the exchange's end cancels them here.
 */
final class HedgeRace {
    private final RequestContext rc;
    private final ExchangeEvents events;
    private final ExchangeTimers timers;
    /** The second attempt while the race is on; null once it is decided. */
    private UpstreamAttempt racer;

    private HedgeRace(RequestContext rc, ExchangeEvents events, ExchangeTimers timers) {
        this.rc = rc;
        this.events = events;
        this.timers = timers;
    }

    /**
     * The hedge on the first upstream from {@code from} that its breaker admits, with a retry-budget permit (a hedge
     * spends the budget, as a retry does), made by {@code attempts} but not started; null when it is skipped.
     */
    static HedgeRace prepare(ExchangeContext rt, RequestContext rc, FullHttpRequest request, int from, EventExecutor loop,
                             BooleanSupplier finished, BiFunction<RouteTarget, ExchangeTimers, UpstreamAttempt> attempts) {
        ExchangeEvents events = rt.events();
        int idx = RouteTargets.acquireFrom(rt, rc, request, from);
        if (idx < 0) {
            events.hedge(rc, "skipped");
            return null;
        }
        RouteTarget target = rc.route.upstreams().get(idx);
        UpstreamState state = rt.upstream(target.upstream());
        if (!state.budget.tryAcquireRetry()) {
            state.breakers.record(null, () -> null); // the admission slot taken above goes back unused
            events.hedge(rc, "skipped");
            return null;
        }
        events.retry(rc, "hedge");
        HedgeRace race = new HedgeRace(rc, events, new ExchangeTimers(loop, finished));
        race.racer = attempts.apply(target, race.timers);
        return race;
    }

    /** Starts the racer; once the exchange holds the race, as a refusal reports synchronously. */
    void start() { racer.start(); }

    /** Whether {@code a} is one of the two attempts still racing. */
    boolean isRacing(UpstreamAttempt a, UpstreamAttempt current) {
        return racer != null && (a == current || a == racer);
    }

    boolean racing() { return racer != null; }

    UpstreamAttempt racer() { return racer; }

    /** One of the two is out (it failed, or its answer is dropped): the race is over. */
    void dropped() {
        racer = null;
        events.hedge(rc, "failed");
    }

    /** {@code winner} committed first: the race is over; returns the loser, for the exchange to cancel. */
    UpstreamAttempt decided(UpstreamAttempt winner, UpstreamAttempt current) {
        UpstreamAttempt loser = winner == racer ? current : racer;
        events.hedge(rc, winner == racer ? "hedge_won" : "primary_won");
        racer = null;
        return loser;
    }

    /** The exchange ended: the hedge's timers off, and a racer still running cancelled. */
    void end() {
        timers.cancelAll();
        if (racer != null) {
            racer.abort(null);
            racer = null;
        }
    }
}
