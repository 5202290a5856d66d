package io.modelegress.server.cluster;

import io.lettuce.core.ScriptOutputType;
import io.modelegress.core.ratelimit.FleetAnswer;
import io.modelegress.core.ratelimit.FleetBudget;
import io.modelegress.core.ratelimit.RateLimits;
import io.modelegress.core.ratelimit.TokenBucket;
import io.modelegress.core.ratelimit.TokenCount;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.LongConsumer;

/**
 * One upstream's shared budgets in Redis: {@code requests_per_minute} and {@code tokens_per_minute} as GCRA
 * schedules, {@code max_concurrent} as leases, the 429 pause as a key with a TTL. One script, one round trip, per
 * request; the answer never fails: a Redis error or timeout is {@link FleetAnswer#UNAVAILABLE}.
 */
final class RedisBudget implements FleetBudget {
    private static final double MICROS_PER_MINUTE = 60_000_000d;
    private static final String[] LIMIT_NAMES = {"none", "requests_per_minute", "tokens_per_minute", "the upstream's 429 pause", "max_concurrent"};

    private final RedisFleet fleet;
    private final String upstream;
    private final RateLimits limits;
    private final String leaseKey;
    // Prepared once: the keys and the arguments that do not change per request, as the bytes sent.
    private final byte[][] reserveKeys;
    private final byte[][] finishKeys;
    private final byte[][] pauseKeys;
    private final byte[] requestIncrement;
    private final byte[] requestBurst;
    private final double tokenIncrement;
    private final byte[] tokenIncrementArg;
    private final byte[] tokenBurst;
    private final byte[] maxConcurrent;
    private final byte[] leaseTtl;
    private final byte[] pauseChannel;
    private final byte[] pauseHead;

    RedisBudget(RedisFleet fleet, String upstream, RateLimits limits) {
        this.fleet = fleet;
        this.upstream = upstream;
        this.limits = limits;
        String req = fleet.key(upstream, "req");
        String tok = fleet.key(upstream, "tok");
        String pause = fleet.key(upstream, "pause");
        String leases = fleet.key(upstream, "leases");
        this.leaseKey = leases;
        this.reserveKeys = RedisFleet.args(req, tok, pause, leases);
        this.finishKeys = RedisFleet.args(tok, leases);
        this.pauseKeys = RedisFleet.args(pause);
        double reqInc = limits.requestsPerMinute() == 0 ? 0 : MICROS_PER_MINUTE / limits.requestsPerMinute();
        this.requestIncrement = num(reqInc);
        this.requestBurst = num(reqInc * burst(limits.requestsPerMinute()));
        this.tokenIncrement = limits.tokensPerMinute() == 0 ? 0 : MICROS_PER_MINUTE / limits.tokensPerMinute();
        this.tokenIncrementArg = num(tokenIncrement);
        this.tokenBurst = num(tokenIncrement * burst(limits.tokensPerMinute()));
        this.maxConcurrent = FleetLinks.bytes(Integer.toString(limits.maxConcurrent()));
        this.leaseTtl = FleetLinks.bytes(Long.toString(fleet.settings().leaseTtl().toMillis()));
        this.pauseChannel = FleetLinks.bytes(fleet.channel());
        this.pauseHead = FleetLinks.bytes(fleet.pauseMessageHead(upstream));
    }

    /** The local bucket's burst ({@link TokenBucket#paced}): the fleet's starts are as smooth as one replica's. */
    private static long burst(long perMinute) {
        return perMinute == 0 ? 0 : Math.max(1, perMinute * TokenBucket.PACING_WINDOW.toMillis() / 60_000);
    }

    @Override
    public CompletionStage<FleetAnswer> reserve(TokenCount estimate, long maxWaitNanos) {
        if (!fleet.isUp()) return unavailable();
        long lease = limits.maxConcurrent() > 0 ? fleet.newLease(leaseKey) : 0;
        CompletableFuture<FleetAnswer> out = new CompletableFuture<>();
        fleet.run(FleetScripts.RESERVE, ScriptOutputType.MULTI, reserveKeys, new byte[][] {requestIncrement, requestBurst,
                tokenIncrementArg, tokenBurst, ascii(estimate.total()), ascii(TimeUnit.NANOSECONDS.toMicros(maxWaitNanos)),
                maxConcurrent, FleetLinks.bytes(fleet.leaseMember(lease)), leaseTtl}, (v, e) -> out.complete(answer(v, e, lease)));
        return out;
    }

    private FleetAnswer answer(Object v, Throwable e, long lease) {
        if (e != null) {
            if (lease != 0) fleet.dropLease(lease);
            fleet.fallback(upstream);
            return FleetAnswer.UNAVAILABLE;
        }
        List<?> r = (List<?>) v;
        long status = (Long) r.get(0);
        long waitNanos = TimeUnit.MICROSECONDS.toNanos((Long) r.get(1));
        int which = (int) (long) (Long) r.get(2);
        if (status == 1) {
            if (which != 4 && lease != 0) fleet.dropLease(lease);
            return new FleetAnswer.Start(waitNanos, which == 4 ? lease : 0);
        }
        if (lease != 0) fleet.dropLease(lease);
        if (status == 2) return new FleetAnswer.Busy(Math.max(TimeUnit.MILLISECONDS.toNanos(5), Math.min(waitNanos,
                TimeUnit.MILLISECONDS.toNanos(25))));
        String limit = LIMIT_NAMES[Math.min(which, LIMIT_NAMES.length - 1)];
        if (which == 1) limit += ": " + limits.requestsPerMinute();
        if (which == 2) limit += ": " + limits.tokensPerMinute();
        return new FleetAnswer.Refused(waitNanos, limit);
    }

    private CompletionStage<FleetAnswer> unavailable() {
        fleet.fallback(upstream);
        return CompletableFuture.completedFuture(FleetAnswer.UNAVAILABLE);
    }

    @Override
    public void finish(long leaseId, long tokensBack) {
        String member = fleet.leaseMember(leaseId);
        if (leaseId != 0) fleet.dropLease(leaseId);
        if (member.isEmpty() && (tokenIncrement == 0 || tokensBack == 0)) return;
        fleet.run(FleetScripts.FINISH, ScriptOutputType.INTEGER, finishKeys,
                new byte[][] {tokenIncrementArg, ascii(tokensBack), FleetLinks.bytes(member)}, null);
    }

    @Override
    public void pause(long nanos) {
        long until = System.nanoTime() + nanos;
        // Written at once; one that fails is sent again when Redis answers again, for what is left of it.
        fleet.run(FleetScripts.PAUSE, ScriptOutputType.INTEGER, pauseKeys,
                new byte[][] {ascii(TimeUnit.NANOSECONDS.toMicros(nanos)), pauseChannel, pauseHead}, (v, e) -> {
                    // One resend at most per upstream, for the longest pause not written (a 429 storm while Redis
                    // is down must not pile up tasks).
                    if (e != null && unsentPauseUntil.getAndAccumulate(until, Math::max) == NONE) fleet.whenBackUp(this::resendPause);
                }, true);
    }

    private static final long NONE = Long.MIN_VALUE;
    private final java.util.concurrent.atomic.AtomicLong unsentPauseUntil = new java.util.concurrent.atomic.AtomicLong(NONE);

    private void resendPause() {
        long left = unsentPauseUntil.getAndSet(NONE) - System.nanoTime();
        if (left > TimeUnit.MILLISECONDS.toNanos(10)) pause(left);
    }

    @Override
    public int replicas() { return fleet.replicas(); }

    @Override
    public void onRemotePause(LongConsumer pauseForNanos) { fleet.onPause(upstream, pauseForNanos); }

    private static byte[] num(double v) {
        return FleetLinks.bytes(String.format(java.util.Locale.ROOT, "%.3f", v));
    }

    private static byte[] ascii(long v) {
        return FleetLinks.bytes(Long.toString(v));
    }
}
