package io.modelegress.core.ratelimit;

import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.TreeSet;

/**
 * The waiters of one upstream: in arrival order for starting, by expiry for giving up, with the tokens they
 * will need in all (the wait estimate of a newcomer counts everything queued ahead of it).
 *
 * <p>Not thread-safe: guarded by the owning limiter's lock.
 */
final class WaitQueue {
    private final LinkedHashSet<Ticket> arrivalOrder = new LinkedHashSet<>();
    private final TreeSet<Ticket> expiryOrder = new TreeSet<>(
            Comparator.comparingLong((Ticket t) -> t.expiresAtNanos).thenComparingLong(t -> t.sequence));
    private long input;
    private long output;

    void add(Ticket ticket) {
        arrivalOrder.add(ticket);
        expiryOrder.add(ticket);
        input += ticket.estimate.input();
        output += ticket.estimate.output();
    }

    /** Returns false when the ticket was no longer waiting. */
    boolean remove(Ticket ticket) {
        if (!arrivalOrder.remove(ticket)) return false;
        expiryOrder.remove(ticket);
        input -= ticket.estimate.input();
        output -= ticket.estimate.output();
        return true;
    }

    /** The oldest waiter, the only one that may start; null when empty. */
    Ticket head() {
        return arrivalOrder.isEmpty() ? null : arrivalOrder.iterator().next();
    }

    /** The waiter that gives up first; null when empty. */
    Ticket nextToExpire() {
        return expiryOrder.isEmpty() ? null : expiryOrder.first();
    }

    boolean contains(Ticket ticket) { return arrivalOrder.contains(ticket); }

    int size() { return arrivalOrder.size(); }

    boolean isEmpty() { return arrivalOrder.isEmpty(); }

    /** What all the waiters will need together. */
    TokenCount tokens() { return TokenCount.of(input, output); }
}
