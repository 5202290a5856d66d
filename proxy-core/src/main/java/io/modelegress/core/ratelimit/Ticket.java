package io.modelegress.core.ratelimit;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * A request waiting in an upstream's FIFO queue. It completes exactly once, with {@link Admission.Granted} or
 * {@link Admission.Rejected}, unless {@link #cancel()} took it out first. Completion runs on whichever thread
 * freed the capacity, so the server hops back to its own event loop with
 * {@code ticket.outcome().whenCompleteAsync(handler, channel.eventLoop())}.
 */
public final class Ticket {
    private final UpstreamLimiter limiter;
    final long sequence;
    final TokenCount estimate;
    final long enqueuedAtNanos;
    final long expiresAtNanos;
    // Shared scope only, guarded by the limiter's lock: when the fleet lets it start (PENDING until it answered),
    // and whether it paces on the local fallback buckets instead (the fleet's store could not answer).
    long notBeforeNanos;
    boolean paceLocally = true;
    long leaseId;
    private final CompletableFuture<Admission> outcome = new CompletableFuture<>();

    Ticket(UpstreamLimiter limiter, long sequence, TokenCount estimate, long enqueuedAtNanos, long expiresAtNanos) {
        this.limiter = limiter;
        this.sequence = sequence;
        this.estimate = estimate;
        this.enqueuedAtNanos = enqueuedAtNanos;
        this.expiresAtNanos = expiresAtNanos;
    }

    /** Completes with {@link Admission.Granted} or {@link Admission.Rejected}; never with {@link Admission.Queued}. */
    public CompletionStage<Admission> outcome() {
        return outcome.minimalCompletionStage();
    }

    /** The outcome if there is one yet, else null: for servers that poll instead of registering a callback. */
    public Admission poll() {
        return outcome.getNow(null);
    }

    /**
     * Leaves the queue (the agent went away). Returns true if the ticket left without a permit and will never
     * complete; false if it had already completed or is completing: a {@link Admission.Granted} outcome then
     * carries a permit that the caller must release.
     */
    public boolean cancel() {
        return limiter.cancel(this);
    }

    /** When the ticket gives up with {@code wait_exceeds_limit}: its deadline or max_queue_wait, the sooner. */
    public long expiresAtNanos() { return expiresAtNanos; }

    void complete(Admission admission) {
        outcome.complete(admission);
    }
}
