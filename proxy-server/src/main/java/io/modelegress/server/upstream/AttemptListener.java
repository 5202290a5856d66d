package io.modelegress.server.upstream;

import io.modelegress.core.error.EgressException;
import io.modelegress.core.retry.AttemptOutcome;

/**
 * What an {@link UpstreamAttempt} tells its exchange, one method per event. Called on the exchange's event loop,
 * never after the attempt is over.
 */
interface AttemptListener {
    /** The first byte went to the agent: from now on the request cannot be retried. */
    void onCommitted(UpstreamAttempt a);

    /**
     * The upstream answered with an error (its body held whole) or a stream opened with an in-band error: true when
     * the exchange makes another attempt instead, in which case this one drops that answer and is over.
     */
    boolean retriesInstead(UpstreamAttempt a, AttemptOutcome answer);

    /**
     * The attempt failed with {@code e}. {@code outcome} is how it ended, for the retry policy; null when no other
     * attempt can help (the attempt had committed, or it was refused before it began: a rate-limit rejection, a
     * missing credential), and the exchange ends with {@code e}.
     */
    void onFailure(UpstreamAttempt a, EgressException e, AttemptOutcome outcome);

    /** The whole answer went to the agent. */
    void onComplete(UpstreamAttempt a);
}
