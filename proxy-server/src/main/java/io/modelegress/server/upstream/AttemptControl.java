package io.modelegress.server.upstream;

import io.modelegress.core.error.EgressException;
import io.modelegress.core.retry.AttemptOutcome;
import io.modelegress.core.timeout.Deadline;

/**
 * What a {@link ResponseReader} tells the attempt it reads for, one method per event, and the two things it asks
 * (is the attempt over; its upstream's shared state). {@link UpstreamAttempt} implements it; the reader never sees
 * the exchange.
 */
interface AttemptControl {
    boolean isOver();

    UpstreamState upstreamState();

    /** The response head arrived (interim 1xx answers excepted). */
    void onHead(int status);

    /** The first byte goes to the agent now. */
    void commit();

    /** An error answer or an in-band error read whole: true when the exchange retries instead. */
    boolean judge(AttemptOutcome answer, boolean reusable);

    /** The last byte went to the agent. */
    void complete(boolean reusable);

    void fail(EgressException e);

    void protocolError(String what);

    /** The connection closed or failed. */
    void broken(Throwable cause);

    /** Arms the attempt's phase timer (first token, stream idle). */
    void phase(Deadline.Limit limit, Runnable onFire);

    void cancelPhase();

    /** The route's resume plan when it resumes broken streams, or null. */
    StreamResume resume();

    /** The continuation this attempt is (it splices into a stream already committed), or null. */
    StreamResume.Continuation continuation();
}
