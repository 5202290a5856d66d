package io.modelegress.core.ratelimit;

import io.modelegress.core.time.Ticker;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The start gate of one upstream, shared by every route and event loop that sends to it: a pure, thread-safe
 * state machine that answers "start now", "wait in the queue" or "come back later", and never blocks.
 *
 * <p>Requests start in strict FIFO order. One that cannot start within max_queue_wait or its own deadline is
 * rejected on arrival, from an estimate of its wait (queue ahead, concurrency, bucket refill, upstream quotas),
 * instead of after waiting in vain. Waiters start when a permit is released, a bucket refills or a cooldown ends
 * (the limiter asks its {@link WakeScheduler} to wake it then), and give up when they expire.
 *
 * <p>With a {@link FleetBudget} ({@code limits.scope: shared}) the request and token budgets and
 * {@code max_concurrent} are the fleet's: every request joins the local queue and asks the fleet for a start time
 * (one round trip, {@link SharedScope}); it starts at that time if the local limits (the upstream's signals, the
 * queue order) allow. While the fleet's store cannot answer, starts pace on local buckets holding
 * {@code 1 / replicas} of each budget.
 *
 * <p>The lock guards a few field updates; ticket completions, fleet calls and scheduling run after it is released.
 */
public final class UpstreamLimiter {
    /** For requests without a deadline of their own. */
    public static final long NO_DEADLINE = Long.MAX_VALUE;
    /** How long the queue cools down after a 429 that named no wait and no exhausted quota. */
    public static final Duration DEFAULT_COOLDOWN = Duration.ofSeconds(1);

    private static final long NEVER = Wakeups.NEVER;

    private final String upstream;
    private final RateLimits limits;
    private final Ticker ticker;
    private final ReentrantLock lock = new ReentrantLock();
    private final SharedScope fleet; // null: local scope

    // Guarded by lock.
    private final StartPacer pacer;
    private final WaitQueue queue = new WaitQueue();
    private final HoldTimeAverage holdTime = new HoldTimeAverage();
    private long nextSequence;
    private final AtomicInteger inFlight = new AtomicInteger();
    private final Wakeups wakeups;
    // Local scope, no limit of ours: only the upstream's word (429 pause, quotas) holds starts. While it holds none and
    // none wait (open: recomputed under the lock), starts and releases skip the lock the event loops would share.
    private final boolean unlimited;
    private volatile boolean open;

    public UpstreamLimiter(String upstream, RateLimits limits, Ticker ticker, WakeScheduler scheduler) {
        this(upstream, limits, ticker, scheduler, null);
    }

    /** {@code fleet}: the shared budgets ({@code limits.scope: shared}), or null for this replica's own. */
    public UpstreamLimiter(String upstream, RateLimits limits, Ticker ticker, WakeScheduler scheduler, FleetBudget fleet) {
        this.upstream = Objects.requireNonNull(upstream, "upstream");
        this.limits = Objects.requireNonNull(limits, "limits");
        this.ticker = Objects.requireNonNull(ticker, "ticker");
        this.wakeups = new Wakeups(Objects.requireNonNull(scheduler, "scheduler"), ticker);
        this.pacer = new StartPacer(limits, ticker);
        this.fleet = fleet == null ? null : new SharedScope(fleet, upstream);
        this.unlimited = fleet == null && limits.maxConcurrent() <= 0 && limits.requestsPerMinute() <= 0 && limits.tokensPerMinute() <= 0;
        this.open = unlimited;
        if (fleet != null) fleet.onRemotePause(nanos -> pauseUntil(ticker.nanos() + nanos));
    }

    /**
     * Asks to start one upstream attempt (a retry asks again) expected to use {@code estimate} tokens, which must
     * start before {@code deadlineNanos} (ticker scale, or {@link #NO_DEADLINE}).
     */
    public Admission submit(TokenCount estimate, long deadlineNanos) {
        Objects.requireNonNull(estimate, "estimate");
        if (fleet != null) return submitShared(estimate, deadlineNanos);
        if (open) { // a start racing a pause being set goes, like one a moment earlier
            inFlight.incrementAndGet();
            return new Admission.Granted(new Permit(this, estimate, ticker.nanos(), Duration.ZERO, false, 0));
        }
        return update(fx -> {
            long now = ticker.nanos(); // update() has just started and expired what was due
            if (queue.isEmpty() && startDelayLocked(now, estimate, null) == 0) {
                return new Admission.Granted(startLocked(now, estimate, now, null));
            }
            return admitToQueueLocked(now, estimate, deadlineNanos);
        });
    }

    /** Shared scope: local checks first (the fast 429), then the ticket waits for the fleet's start time. */
    private Admission submitShared(TokenCount estimate, long deadlineNanos) {
        return update(fx -> {
            long now = ticker.nanos();
            if (!limits.queueing()) {
                // No queue: the fleet must let it start at once (the reservation allows no wait); it waits only
                // for that answer, bounded by the store's timeout.
                Ticket t = new Ticket(this, nextSequence++, estimate, now, SharedScope.answerDeadline(now, deadlineNanos));
                queue.add(t);
                fleet.askLocked(t, fx);
                return new Admission.Queued(t);
            }
            Admission a = admitToQueueLocked(now, estimate, deadlineNanos);
            if (a instanceof Admission.Queued) fleet.askLocked(((Admission.Queued) a).ticket(), fx);
            return a;
        });
    }

    private final java.util.function.Consumer<Ticket> reserveFn = this::reserve; // one per limiter, not per update

    /** Sends a fleet reservation decided under the lock; its answer comes back through {@link #onFleetAnswer}. */
    private void reserve(Ticket t) {
        long maxWait = limits.queueing() ? Math.max(0, t.expiresAtNanos - ticker.nanos()) : 0;
        fleet.send(t, maxWait, this::onFleetAnswer);
    }

    private void onFleetAnswer(Ticket t, FleetAnswer answer) {
        update(fx -> {
            long now = ticker.nanos();
            boolean waiting = queue.contains(t);
            Admission.Rejected refused = fleet.applyLocked(t, answer, waiting, now, pacer, fx);
            if (refused != null && queue.remove(t)) fx.complete(t, refused);
            return null;
        });
    }

    /** The upstream answered 429: take in its quotas, then hold every start until its hint allows. */
    public void onRateLimited(RateLimitSnapshot snapshot) {
        long hint = snapshot.hasRetryAfter() ? snapshot.retryAtNanos() : snapshot.exhaustedUntilNanos();
        long until = hint != RateLimitSnapshot.NO_RETRY_AFTER ? hint : ticker.nanos() + DEFAULT_COOLDOWN.toNanos();
        update(() -> {
            pacer.quota().observe(snapshot);
            pacer.quota().pauseUntil(until);
        });
        publishPause(until);
    }

    private void publishPause(long untilNanos) { if (fleet != null) fleet.publishPause(untilNanos - ticker.nanos()); }

    /** Holds every start until {@code nanos} (ticker scale); never shortens a longer pause. */
    public void pauseUntil(long nanos) { update(() -> pacer.quota().pauseUntil(nanos)); }

    public void pauseFor(Duration duration) { pauseUntil(ticker.nanos() + duration.toNanos()); }

    /** Takes in the quotas an upstream reported on any response, so that we hold starts before it says 429. */
    public void observe(RateLimitSnapshot snapshot) {
        if (snapshot.readings().isEmpty()) return;
        update(() -> pacer.quota().observe(snapshot));
        long exhausted = snapshot.exhaustedUntilNanos();
        if (exhausted != RateLimitSnapshot.NO_RETRY_AFTER) publishPause(exhausted);
    }

    /** Starts and expires what is due. The limiter does this itself; a server may also call it as a safety net. */
    public void pump() { update(() -> { }); }

    public int queueDepth() {
        lock.lock();
        try { return queue.size(); } finally { lock.unlock(); }
    }

    public int inFlight() { return inFlight.get(); }

    public String upstream() { return upstream; }

    public RateLimits limits() { return limits; }

    void release(Permit permit, TokenCount actualUsage) {
        if (open) { // nothing waits, and no limit of ours needs the hold time or the usage
            inFlight.decrementAndGet();
            return;
        }
        update(() -> {
            inFlight.decrementAndGet();
            holdTime.record(ticker.nanos() - permit.startedAtNanos());
            if (actualUsage != null && !permit.fleetPaced) pacer.correct(permit.estimate(), actualUsage);
        });
        if (permit.fleetPaced) fleet.released(permit, actualUsage);
    }

    boolean cancel(Ticket ticket) { return update(fx -> queue.remove(ticket)); }

    private void update(Runnable change) {
        update(fx -> {
            change.run();
            return null;
        });
    }

    /** Applies a change, then starts and expires what became due; completes tickets and calls the fleet after unlocking. */
    private <T> T update(java.util.function.Function<LimiterEffects, T> change) {
        LimiterEffects fx = new LimiterEffects();
        long wake = NEVER;
        try {
            lock.lock();
            try {
                pumpLocked(ticker.nanos(), fx);
                T result = change.apply(fx);
                long now = ticker.nanos();
                pumpLocked(now, fx);
                wake = wakeups.claimLocked(dueLocked(now));
                open = unlimited && queue.isEmpty() && pacer.quota().holdsNothing(now);
                return result;
            } finally {
                lock.unlock();
            }
        } finally {
            // Whatever happened, a ticket taken out of the queue must hear its outcome.
            fx.carryOut(fleet, reserveFn);
            if (wake != NEVER) wakeups.schedule(wake, due -> update(() -> wakeups.wokeLocked(due)));
        }
    }

    private Admission admitToQueueLocked(long now, TokenCount estimate, long deadlineNanos) {
        WaitEstimate wait = waitAtTailLocked(now, estimate);
        QueueAdmission.Decision d = QueueAdmission.decide(limits, queue.size(), wait, now, deadlineNanos);
        if (!d.admitted()) return QueueAdmission.rejected(upstream, d.refusal(), Duration.ofNanos(wait.nanos()), 0, d.detail());
        Ticket ticket = new Ticket(this, nextSequence++, estimate, now, d.expiresAtNanos());
        queue.add(ticket);
        return new Admission.Queued(ticket);
    }

    /**
     * Starts waiters from the head for as long as every limit allows, and expires overdue ones. Starting comes
     * first, so a waiter that can start at the instant it would expire starts.
     */
    private void pumpLocked(long now, LimiterEffects fx) {
        while (true) {
            for (Ticket t = queue.head(); t != null && startDelayLocked(now, t.estimate, t) == 0; t = queue.head()) {
                if (t.leaseId == -1) {
                    // The fleet's slots were all taken: this one asks again, and holds the queue meanwhile.
                    t.leaseId = 0;
                    fleet.askLocked(t, fx);
                    break;
                }
                queue.remove(t);
                fx.complete(t, new Admission.Granted(startLocked(now, t.estimate, t.enqueuedAtNanos, t)));
            }
            Ticket expired = queue.nextToExpire();
            if (expired == null || expired.expiresAtNanos > now) return;
            queue.remove(expired);
            long waited = now - expired.enqueuedAtNanos;
            fx.complete(expired, QueueAdmission.expired(upstream, limits, waited,
                    waitAtTailLocked(now, expired.estimate).nanos()));
        }
    }

    /**
     * 0 when a request with nothing ahead may start now; {@link #NEVER} when only a release (or the fleet's answer)
     * can let it start. {@code t}: the queued ticket, or null for one that would start on arrival.
     */
    private long startDelayLocked(long now, TokenCount estimate, Ticket t) {
        boolean local = t == null || t.paceLocally;
        if (t != null && t.notBeforeNanos > now) return t.notBeforeNanos == SharedScope.PENDING ? NEVER : t.notBeforeNanos - now;
        if (local && limits.maxConcurrent() > 0 && inFlight.get() >= localConcurrency()) return NEVER;
        return pacer.wait(now, estimate, 0, TokenCount.ZERO, local).nanos();
    }

    /** max_concurrent, or this replica's share of it while the fleet's store cannot answer. */
    private int localConcurrency() {
        return fleet == null ? limits.maxConcurrent() : Math.max(1, limits.maxConcurrent() / pacer.share());
    }

    /** Whether arrival estimates count the local buckets: always for local scope, in fallback for shared. */
    private boolean localBudgets() {
        return fleet == null || fleet.downLocked();
    }

    /** The wait of a request joining the tail now: the whole queue starts first. */
    private WaitEstimate waitAtTailLocked(long now, TokenCount need) {
        WaitEstimate wait = pacer.wait(now, need, queue.size(), queue.tokens(), localBudgets());
        if (limits.maxConcurrent() > 0 && localBudgets()) {
            int cap = localConcurrency();
            long releasesNeeded = (long) inFlight.get() + queue.size() + 1 - cap;
            wait = wait.max(holdTime.nanosFor(releasesNeeded, cap), "max_concurrent: " + limits.maxConcurrent());
        }
        return wait;
    }

    private Permit startLocked(long now, TokenCount estimate, long enqueuedAtNanos, Ticket t) {
        inFlight.incrementAndGet();
        boolean local = t == null || t.paceLocally;
        pacer.charge(now, estimate, local);
        return new Permit(this, estimate, now, Duration.ofNanos(now - enqueuedAtNanos), !local, t == null ? 0 : t.leaseId);
    }

    /** When something is next due: the head's start or the soonest expiry ({@link #NEVER}: nothing). */
    private long dueLocked(long now) {
        Ticket nextToExpire = queue.nextToExpire();
        long due = nextToExpire == null ? NEVER : nextToExpire.expiresAtNanos;
        Ticket head = queue.head();
        if (head != null) {
            long delay = startDelayLocked(now, head.estimate, head);
            if (delay != NEVER) due = Math.min(due, now + delay);
        }
        return due;
    }
}
