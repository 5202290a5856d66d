package io.modelegress.core.ratelimit;

/** What the fleet's store answered to {@link FleetBudget#reserve}. */
public sealed interface FleetAnswer {
    /** Start after {@code delayNanos}; {@code leaseId} (0 for none) holds a fleet-wide concurrency slot. */
    record Start(long delayNanos, long leaseId) implements FleetAnswer { }

    /** The fleet's budget cannot start it within the wait allowed: nothing was reserved. */
    record Refused(long retryAfterNanos, String limit) implements FleetAnswer { }

    /** Every fleet-wide concurrency slot is taken: ask again when one may be free, after {@code retryNanos}. */
    record Busy(long retryNanos) implements FleetAnswer { }

    /** The store is down or slow: pace this start locally. */
    record Unavailable() implements FleetAnswer { }

    FleetAnswer UNAVAILABLE = new Unavailable();
}
