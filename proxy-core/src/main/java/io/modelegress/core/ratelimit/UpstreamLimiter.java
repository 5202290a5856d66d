package io.modelegress.core.ratelimit;

import io.modelegress.core.time.Ticker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

/**
 * The start gate of one upstream, shared by every route and event loop that sends to it: a pure, thread-safe
 * state machine that answers "start now", "wait in the queue" or "come back later", and never blocks.
 *
 * <p>Requests start in strict FIFO order. One that cannot start within max_queue_wait or its own deadline is
 * rejected on arrival, from an estimate of its wait (queue ahead, concurrency, bucket refill, upstream quotas),
 * instead of after waiting in vain. Waiters start when a permit is released, a bucket refills or a cooldown ends
 * (the limiter asks its {@link WakeScheduler} to wake it then), and give up when they expire.
 *
 * <p>The lock guards a few field updates; ticket completions and scheduling run after it is released.
 */
public final class UpstreamLimiter {
    /** For requests without a deadline of their own. */
    public static final long NO_DEADLINE = Long.MAX_VALUE;
    /** How long the queue cools down after a 429 that named no wait and no exhausted quota. */
    public static final Duration DEFAULT_COOLDOWN = Duration.ofSeconds(1);

    private static final long NEVER = Long.MAX_VALUE;

    private final String upstream;
    private final RateLimits limits;
    private final Ticker ticker;
    private final WakeScheduler scheduler;
    private final ReentrantLock lock = new ReentrantLock();

    // Guarded by lock.
    private final StartPacer pacer;
    private final WaitQueue queue = new WaitQueue();
    private final HoldTimeAverage holdTime = new HoldTimeAverage();
    private long nextSequence;
    private int inFlight;
    private long wakeAtNanos = NEVER;

    public UpstreamLimiter(String upstream, RateLimits limits, Ticker ticker, WakeScheduler scheduler) {
        this.upstream = Objects.requireNonNull(upstream, "upstream");
        this.limits = Objects.requireNonNull(limits, "limits");
        this.ticker = Objects.requireNonNull(ticker, "ticker");
        this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
        this.pacer = new StartPacer(limits, ticker);
    }

    /**
     * Asks to start one upstream attempt (a retry asks again) expected to use {@code estimate} tokens, which must
     * start before {@code deadlineNanos} (ticker scale, or {@link #NO_DEADLINE}).
     */
    public Admission submit(TokenCount estimate, long deadlineNanos) {
        Objects.requireNonNull(estimate, "estimate");
        return update(() -> {
            long now = ticker.nanos(); // update() has just started and expired what was due
            if (queue.isEmpty() && startDelayLocked(now, estimate) == 0) {
                return new Admission.Granted(startLocked(now, estimate, now));
            }
            return admitToQueueLocked(now, estimate, deadlineNanos);
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
    }

    /** Holds every start until {@code nanos} (ticker scale); never shortens a longer pause. */
    public void pauseUntil(long nanos) {
        update(() -> pacer.quota().pauseUntil(nanos));
    }

    public void pauseFor(Duration duration) {
        pauseUntil(ticker.nanos() + duration.toNanos());
    }

    /** Takes in the quotas an upstream reported on any response, so that we hold starts before it says 429. */
    public void observe(RateLimitSnapshot snapshot) {
        if (!snapshot.readings().isEmpty()) update(() -> pacer.quota().observe(snapshot));
    }

    /** Starts and expires what is due. The limiter does this itself; a server may also call it as a safety net. */
    public void pump() {
        update(() -> { });
    }

    public int queueDepth() {
        return read(queue::size);
    }

    public int inFlight() {
        return read(() -> inFlight);
    }

    public String upstream() { return upstream; }

    public RateLimits limits() { return limits; }

    void release(Permit permit, TokenCount actualUsage) {
        update(() -> {
            inFlight--;
            holdTime.record(ticker.nanos() - permit.startedAtNanos());
            if (actualUsage != null) pacer.correct(permit.estimate(), actualUsage);
        });
    }

    boolean cancel(Ticket ticket) {
        return update(() -> queue.remove(ticket));
    }

    private void update(Runnable change) {
        update(() -> {
            change.run();
            return null;
        });
    }

    /** Applies a change, then starts and expires what became due; completes tickets after unlocking. */
    private <T> T update(Supplier<T> change) {
        List<Completion> completions = new ArrayList<>(0);
        long wake = NEVER;
        try {
            lock.lock();
            try {
                pumpLocked(ticker.nanos(), completions);
                T result = change.get();
                long now = ticker.nanos();
                pumpLocked(now, completions);
                wake = claimWakeLocked(now);
                return result;
            } finally {
                lock.unlock();
            }
        } finally {
            // Whatever happened, a ticket taken out of the queue must hear its outcome.
            for (Completion c : completions) c.ticket.complete(c.admission);
            if (wake != NEVER) scheduleWake(wake);
        }
    }

    private void scheduleWake(long due) {
        scheduler.schedule(() -> onWake(due), Math.max(0, due - ticker.nanos()));
    }

    private <T> T read(Supplier<T> value) {
        lock.lock();
        try {
            return value.get();
        } finally {
            lock.unlock();
        }
    }

    private Admission admitToQueueLocked(long now, TokenCount estimate, long deadlineNanos) {
        WaitEstimate wait = waitAtTailLocked(now, estimate);
        Duration retryAfter = Duration.ofNanos(wait.nanos());
        if (!limits.queueing()) {
            boolean noQueue = limits.maxQueue() == 0;
            return rejected(noQueue ? Rejection.Reason.QUEUE_FULL : Rejection.Reason.WAIT_EXCEEDS_LIMIT, retryAfter,
                    0, "cannot start now and queueing is off (" + (noQueue ? "max_queue" : "max_queue_wait") + ": 0)");
        }
        if (queue.size() >= limits.maxQueue()) {
            return rejected(Rejection.Reason.QUEUE_FULL, retryAfter, 0, String.format(
                    "%d requests already waiting (max_queue: %d)", queue.size(), limits.maxQueue()));
        }
        long maxWait = limits.maxQueueWait().toNanos();
        long untilDeadline = deadlineNanos == NO_DEADLINE ? NEVER : deadlineNanos - now;
        if (wait.nanos() > Math.min(maxWait, untilDeadline)) {
            String bound = maxWait <= untilDeadline
                    ? "max_queue_wait: " + format(maxWait) : "the request's remaining deadline of " + format(untilDeadline);
            return rejected(Rejection.Reason.WAIT_EXCEEDS_LIMIT, retryAfter, 0, String.format(
                    "estimated wait %s (%s) exceeds %s", format(wait.nanos()), wait.limit(), bound));
        }
        long expiresAt = untilDeadline < maxWait ? deadlineNanos : now + maxWait;
        Ticket ticket = new Ticket(this, nextSequence++, estimate, now, expiresAt);
        queue.add(ticket);
        return new Admission.Queued(ticket);
    }

    /**
     * Starts waiters from the head for as long as every limit allows, and expires overdue ones. Starting comes
     * first, so a waiter that can start at the instant it would expire starts.
     */
    private void pumpLocked(long now, List<Completion> completions) {
        while (true) {
            for (Ticket t = queue.head(); t != null && startDelayLocked(now, t.estimate) == 0; t = queue.head()) {
                queue.remove(t);
                completions.add(new Completion(t, new Admission.Granted(startLocked(now, t.estimate, t.enqueuedAtNanos))));
            }
            Ticket expired = queue.nextToExpire();
            if (expired == null || expired.expiresAtNanos > now) return;
            queue.remove(expired);
            long waited = now - expired.enqueuedAtNanos;
            completions.add(new Completion(expired, rejected(Rejection.Reason.WAIT_EXCEEDS_LIMIT,
                    Duration.ofNanos(waitAtTailLocked(now, expired.estimate).nanos()), waited, String.format(
                            "waited %s in the queue without a start (the request's deadline or max_queue_wait: %s)",
                            format(waited), format(limits.maxQueueWait().toNanos())))));
        }
    }

    /** 0 when a request with nothing ahead may start now; {@link #NEVER} when only a release can let it start. */
    private long startDelayLocked(long now, TokenCount estimate) {
        if (limits.maxConcurrent() > 0 && inFlight >= limits.maxConcurrent()) return NEVER;
        return pacer.wait(now, estimate, 0, TokenCount.ZERO).nanos();
    }

    /** The wait of a request joining the tail now: the whole queue starts first. */
    private WaitEstimate waitAtTailLocked(long now, TokenCount need) {
        WaitEstimate wait = pacer.wait(now, need, queue.size(), queue.tokens());
        if (limits.maxConcurrent() > 0) {
            long releasesNeeded = (long) inFlight + queue.size() + 1 - limits.maxConcurrent();
            wait = wait.max(holdTime.nanosFor(releasesNeeded, limits.maxConcurrent()),
                    "max_concurrent: " + limits.maxConcurrent());
        }
        return wait;
    }

    private Permit startLocked(long now, TokenCount estimate, long enqueuedAtNanos) {
        inFlight++;
        pacer.charge(now, estimate);
        return new Permit(this, estimate, now, Duration.ofNanos(now - enqueuedAtNanos));
    }

    /** Returns when the scheduler must wake us, or {@link #NEVER} when an early enough wake-up is pending. */
    private long claimWakeLocked(long now) {
        Ticket nextToExpire = queue.nextToExpire();
        long due = nextToExpire == null ? NEVER : nextToExpire.expiresAtNanos;
        Ticket head = queue.head();
        if (head != null) {
            long delay = startDelayLocked(now, head.estimate);
            if (delay != NEVER) due = Math.min(due, now + delay);
        }
        if (due >= wakeAtNanos) return NEVER;
        wakeAtNanos = due;
        return due;
    }

    private void onWake(long due) {
        update(() -> {
            if (wakeAtNanos == due) wakeAtNanos = NEVER;
        });
    }

    private Admission.Rejected rejected(Rejection.Reason reason, Duration retryAfter, long waitedNanos, String detail) {
        return new Admission.Rejected(new Rejection(
                reason, retryAfter, Duration.ofNanos(waitedNanos), "upstream " + upstream + ": " + detail));
    }

    static String format(long nanos) {
        if (nanos >= 1_000_000_000L) return String.format("%.1fs", nanos / 1e9);
        return Math.max(0, nanos / 1_000_000) + "ms";
    }

    private record Completion(Ticket ticket, Admission admission) { }
}
