package io.modelegress.core.ratelimit;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/** What one update of an {@link UpstreamLimiter} decided under its lock and carries out after it. */
final class LimiterEffects {
    /** A ticket taken out of the queue and the outcome it must hear. */
    record Completion(Ticket ticket, Admission admission) { }

    final List<Completion> completions = new ArrayList<>(0);
    /** Tickets whose fleet reservation goes out ({@link SharedScope#send}). */
    final List<Ticket> reservations = new ArrayList<>(0);
    /** Fleet reservations to give back: {lease id, tokens back}. */
    final List<long[]> finishes = new ArrayList<>(0);

    /** After unlocking: every ticket taken out of the queue hears its outcome, then the fleet calls go out. */
    void carryOut(SharedScope fleet, Consumer<Ticket> reserve) {
        for (Completion c : completions) c.ticket().complete(c.admission());
        for (long[] f : finishes) fleet.budget().finish(f[0], f[1]);
        for (Ticket t : reservations) reserve.accept(t);
    }
}
