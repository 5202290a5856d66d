package io.modelegress.core.ratelimit;

import java.util.Objects;

/** The limiter's answer to a request: start now, wait in the queue, or go away and come back later. */
public sealed interface Admission {
    /** Start the upstream attempt now; release the permit when the exchange ends, whatever its outcome. */
    record Granted(Permit permit) implements Admission {
        public Granted {
            Objects.requireNonNull(permit, "permit");
        }
    }

    /** Wait: the ticket completes with {@link Granted} or {@link Rejected}, unless cancelled first. */
    record Queued(Ticket ticket) implements Admission {
        public Queued {
            Objects.requireNonNull(ticket, "ticket");
        }
    }

    /** Answer the agent with 429 {@code rate_limited} and the rejection's retry-after. */
    record Rejected(Rejection rejection) implements Admission {
        public Rejected {
            Objects.requireNonNull(rejection, "rejection");
        }
    }
}
