package io.modelegress.core.ratelimit;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/** What one update of an {@link UpstreamLimiter} decided under its lock and carries out after it. */
final class LimiterEffects {
    /** A ticket taken out of the queue and the outcome it must hear. */
    record Completion(Ticket ticket, Admission admission) { }

    // Made on first use: most updates (an ordinary request's start and end) carry out nothing (issue 20).
    private List<Completion> completions;
    /** Tickets whose fleet reservation goes out ({@link SharedScope#send}). */
    private List<Ticket> reservations;
    /** Fleet reservations to give back: {lease id, tokens back}. */
    private List<long[]> finishes;

    void complete(Ticket ticket, Admission admission) {
        if (completions == null) completions = new ArrayList<>(2);
        completions.add(new Completion(ticket, admission));
    }

    void reserve(Ticket ticket) {
        if (reservations == null) reservations = new ArrayList<>(2);
        reservations.add(ticket);
    }

    void finish(long leaseId, long tokensBack) {
        if (finishes == null) finishes = new ArrayList<>(2);
        finishes.add(new long[] {leaseId, tokensBack});
    }

    /** After unlocking: every ticket taken out of the queue hears its outcome, then the fleet calls go out. */
    void carryOut(SharedScope fleet, Consumer<Ticket> reserve) {
        if (completions != null) for (int i = 0; i < completions.size(); i++) completions.get(i).ticket().complete(completions.get(i).admission());
        if (finishes != null) for (int i = 0; i < finishes.size(); i++) fleet.budget().finish(finishes.get(i)[0], finishes.get(i)[1]);
        if (reservations != null) for (int i = 0; i < reservations.size(); i++) reserve.accept(reservations.get(i));
    }
}
