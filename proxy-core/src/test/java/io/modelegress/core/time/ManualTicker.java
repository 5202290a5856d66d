package io.modelegress.core.time;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/** A ticker that moves only when told to; for tests of time-based policies. */
public final class ManualTicker implements Ticker {
    private final AtomicLong nanos = new AtomicLong();
    private final AtomicLong wallMillis;

    public ManualTicker() { this(1_700_000_000_000L); }

    public ManualTicker(long wallMillis) { this.wallMillis = new AtomicLong(wallMillis); }

    @Override public long nanos() { return nanos.get(); }
    @Override public long wallMillis() { return wallMillis.get(); }

    public ManualTicker advance(Duration d) {
        nanos.addAndGet(d.toNanos());
        wallMillis.addAndGet(d.toMillis());
        return this;
    }

    public ManualTicker advanceMillis(long ms) { return advance(Duration.ofMillis(ms)); }
}
