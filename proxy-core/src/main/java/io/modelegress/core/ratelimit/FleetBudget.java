package io.modelegress.core.ratelimit;

import java.util.concurrent.CompletionStage;

/**
 * The fleet's share of one upstream's limits ({@code limits.scope: shared}): budgets that every replica paces
 * against, kept in a shared store (Redis) by the server. The limiter keeps its own queue, deadlines and fast 429;
 * this only says when the fleet lets a start happen. Every method returns at once (never blocks a thread), and a
 * store that cannot answer makes {@link #reserve} complete with {@link FleetAnswer.Unavailable} in bounded time,
 * never exceptionally: the limiter then paces locally at {@code 1 / replicas()} of the budgets.
 */
public interface FleetBudget {
    /**
     * Reserves one start needing {@code estimate} tokens, no later than {@code maxWaitNanos} from now. A refusal
     * reserves nothing.
     */
    CompletionStage<FleetAnswer> reserve(TokenCount estimate, long maxWaitNanos);

    /**
     * A reserved start has ended: frees its concurrency lease ({@code leaseId}, 0 for none) and gives back
     * {@code tokensBack} tokens (negative: charges an under-estimate). Fire and forget.
     */
    void finish(long leaseId, long tokensBack);

    /** The upstream said to hold every start for {@code nanos}: tell every replica. Fire and forget. */
    void pause(long nanos);

    /** Replicas alive when the store last answered, this one included; at least 1. */
    int replicas();

    /** Subscribes the limiter to pauses that other replicas published. */
    default void onRemotePause(java.util.function.LongConsumer pauseForNanos) { }
}
