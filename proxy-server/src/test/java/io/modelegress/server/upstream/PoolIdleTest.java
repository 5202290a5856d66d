package io.modelegress.server.upstream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.modelegress.server.testing.Http;
import io.modelegress.server.testing.Sidecar;
import io.modelegress.server.testing.TestConfig;
import io.modelegress.server.testing.TestUpstream;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@code pool.idle_timeout} on real loopback connections: it counts from a connection's last return to the pool, never
 * cuts a leased one however long its exchange, and a check that finds the connection returned later waits the rest.
 */
class PoolIdleTest {
    private final TestUpstream upstream = new TestUpstream();
    private Sidecar sidecar;

    PoolIdleTest() throws Exception {}

    private void start(String idleTimeout) throws Exception {
        sidecar = TestConfig.config()
                .upstream("up", upstream.url(), u -> u.set("pool", java.util.Map.of("idle_timeout", idleTimeout)))
                .timeout("response_headers", "10s")
                .route("openai", "/v1", "up")
                .start();
    }

    @AfterEach
    void tearDown() {
        if (sidecar != null) sidecar.close();
        upstream.close();
    }

    private int get() throws Exception { return Http.get(sidecar.url() + "/v1/models").statusCode(); }

    /** Milliseconds from {@code sinceNanos} until the upstream saw every connection closed (at most 10 s). */
    private long closedAfterMs(long sinceNanos) {
        Awaitility.await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(20))
                .until(upstream::allConnectionsClosed);
        return (System.nanoTime() - sinceNanos) / 1_000_000;
    }

    @Test
    void anIdleConnectionIsClosedAfterTheTimeout() throws Exception {
        start("500ms");
        assertEquals(200, get());
        long released = System.nanoTime();
        long ms = closedAfterMs(released);
        assertTrue(ms >= 400 && ms < 5000, "closed " + ms + " ms after its return to the pool");
        assertEquals(1, upstream.accepted());
        Awaitility.await().atMost(Duration.ofSeconds(5))
                .until(() -> sidecar.server.runtime().pool().counts("up").idle.intValue() == 0);
    }

    @Test
    void aLeasedConnectionOutlivesTheTimeoutAndReturnsToThePool() throws Exception {
        start("300ms");
        assertEquals(200, get()); // returned: its idle check is armed
        upstream.script((ctx, req) -> ctx.executor().schedule(
                () -> TestUpstream.json(200, "{}").answer(ctx, req), 1200, TimeUnit.MILLISECONDS));
        assertEquals(200, get()); // leased across the check, four timeouts long
        assertEquals(1, upstream.accepted(), "the slow exchange ran on the pooled connection, uncut");
        upstream.script(TestUpstream.json(200, "{}"));
        assertEquals(200, get());
        assertEquals(1, upstream.accepted(), "after the slow exchange the connection went back to the pool and served again");
        long ms = closedAfterMs(System.nanoTime());
        assertTrue(ms < 5000, "closed " + ms + " ms after its last return");
    }

    @Test
    void theTimeoutCountsFromTheLastReturnNotTheFirst() throws Exception {
        start("2s");
        assertEquals(200, get()); // the check is armed for 2 s from here
        Awaitility.await().pollDelay(Duration.ofMillis(600)).atMost(Duration.ofSeconds(2)).until(() -> true);
        assertEquals(200, get());
        long lastReturn = System.nanoTime();
        assertEquals(1, upstream.accepted());
        long ms = closedAfterMs(lastReturn);
        // The first check fires ~1.4 s after the last return, finds the connection younger than 2 s and waits the rest.
        assertTrue(ms >= 1700, "closed " + ms + " ms after its last return, before pool.idle_timeout (2 s)");
    }
}
