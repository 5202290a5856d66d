package io.modelegress.core.route;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.modelegress.core.time.ManualTicker;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/** The map of where each stateful response lives: bounded by count, forgotten after its ttl, on a fake clock. */
class ResponseAffinityTest {
    private final ManualTicker clock = new ManualTicker();

    @Test
    void remembersTheUpstreamThatMadeAResponse() {
        ResponseAffinity a = new ResponseAffinity(10, Duration.ofHours(1), clock);
        assertTrue(a.isEmpty());
        a.remember("resp_1", "primary");
        a.remember("resp_2", "fallback");
        assertEquals("primary", a.upstreamOf("resp_1"));
        assertEquals("fallback", a.upstreamOf("resp_2"));
        assertNull(a.upstreamOf("resp_3"), "an id never seen is unknown");
        assertFalse(a.isEmpty());
    }

    /** ttl 60 s: an id learned at 0 is known just before 60 s and forgotten at 60 s (and after). */
    @ParameterizedTest(name = "looked up after {0}s: {1}")
    @CsvSource({"0, primary", "1, primary", "59, primary", "60, ", "61, ", "3600, "})
    void forgetsAnIdItsTtlAfterItWasLearned(long seconds, String expected) {
        ResponseAffinity a = new ResponseAffinity(10, Duration.ofSeconds(60), clock);
        a.remember("resp_1", "primary");
        clock.advance(Duration.ofSeconds(seconds));
        assertEquals(expected, a.upstreamOf("resp_1"));
    }

    @Test
    void anExpiredIdIsDroppedNotJustHidden() {
        ResponseAffinity a = new ResponseAffinity(10, Duration.ofSeconds(60), clock);
        a.remember("resp_1", "primary");
        clock.advance(Duration.ofSeconds(30));
        a.remember("resp_2", "primary");
        clock.advance(Duration.ofSeconds(31));
        a.remember("resp_3", "primary"); // resp_1 expired: dropped on the way in
        assertEquals(2, a.size());
        assertNull(a.upstreamOf("resp_1"));
        assertEquals("primary", a.upstreamOf("resp_2"));
    }

    /** max_entries 3: the fourth id pushes out the oldest, and so on. */
    @ParameterizedTest(name = "{0} ids learned: {1} still known")
    @CsvSource({"1, resp_1", "3, resp_1 resp_2 resp_3", "4, resp_2 resp_3 resp_4", "6, resp_4 resp_5 resp_6"})
    void keepsAtMostMaxEntriesTheOldestGoingFirst(int learned, String known) {
        ResponseAffinity a = new ResponseAffinity(3, Duration.ofHours(1), clock);
        for (int i = 1; i <= learned; i++) {
            a.remember("resp_" + i, "u" + i);
            clock.advance(Duration.ofSeconds(1));
        }
        List<String> expected = List.of(known.split(" "));
        assertEquals(expected.size(), a.size());
        for (int i = 1; i <= learned; i++) {
            String id = "resp_" + i;
            assertEquals(expected.contains(id) ? "u" + i : null, a.upstreamOf(id), id);
        }
    }

    @Test
    void anIdLearnedAgainStartsItsTtlOverAndIsTheYoungest() {
        ResponseAffinity a = new ResponseAffinity(2, Duration.ofSeconds(60), clock);
        a.remember("resp_1", "primary");
        a.remember("resp_2", "primary");
        clock.advance(Duration.ofSeconds(50));
        a.remember("resp_1", "fallback"); // young again: resp_2 is now the eldest
        a.remember("resp_3", "primary");
        assertNull(a.upstreamOf("resp_2"));
        clock.advance(Duration.ofSeconds(50)); // 100 s after it was first learned, 50 s after the second time
        assertEquals("fallback", a.upstreamOf("resp_1"));
    }

    @Test
    void aDeletedResponseIsForgotten() {
        ResponseAffinity a = new ResponseAffinity(10, Duration.ofHours(1), clock);
        a.remember("resp_1", "primary");
        a.forget("resp_1");
        assertNull(a.upstreamOf("resp_1"));
        assertTrue(a.isEmpty());
    }

    @ParameterizedTest(name = "max_entries {0}, ttl {1}s: off")
    @CsvSource({"0, 3600", "100, 0"})
    void zeroEntriesOrZeroTtlRemembersNothing(int max, long ttlSeconds) {
        ResponseAffinity a = new ResponseAffinity(max, Duration.ofSeconds(ttlSeconds), clock);
        a.remember("resp_1", "primary");
        assertFalse(a.enabled());
        assertNull(a.upstreamOf("resp_1"));
        assertTrue(a.isEmpty());
    }
}
