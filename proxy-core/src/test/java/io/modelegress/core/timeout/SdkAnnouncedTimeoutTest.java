package io.modelegress.core.timeout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.modelegress.core.time.ManualTicker;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The sidecar answers before the agent's SDK gives up, on the fake clock: whatever timeout the SDK announces, the
 * limit the sidecar sets from it ends at least 100 ms earlier, so the agent reads our specific error rather than its
 * own anonymous timeout. (The integration tests check the error arrives; this checks it is planned early enough.)
 */
class SdkAnnouncedTimeoutTest {
    private static final Duration ROUTE = Duration.ofSeconds(600);

    @ParameterizedTest(name = "java SDK announces {0}s: the whole deadline is {1}ms")
    @CsvSource({"0.4, 300", "1, 900", "2, 1900", "10, 9500", "60, 59000", "120, 119000"})
    void theJavaSdksTimeoutCapsTheDeadlineAheadOfTheAgent(String announced, long expectedMillis) {
        ManualTicker clock = new ManualTicker();
        RequestDeadlines.Plan p = RequestDeadlines.plan(clock, ROUTE, null, announced, "java");
        long agentGivesUpMillis = Math.round(Double.parseDouble(announced) * 1000);
        assertEquals(Duration.ofMillis(expectedMillis), p.deadline().budget());
        assertTrue(agentGivesUpMillis - expectedMillis >= 100, "headroom " + (agentGivesUpMillis - expectedMillis) + "ms");
        assertNull(p.headersLimit());
        assertTrue(p.deadline().source().contains("x-stainless-timeout: " + announced), p.deadline().source());

        clock.advanceMillis(expectedMillis - 1);
        assertTrue(!p.deadline().expired(), "fired early");
        clock.advanceMillis(1);
        assertTrue(p.deadline().expired(), "the sidecar's deadline has run out while the agent still waits");
    }

    @ParameterizedTest(name = "{2} SDK announces {0}s: response headers are awaited {1}ms")
    @CsvSource({"0.4, 300, node", "1, 900, python", "10, 9500, node", "600, 599000, ''"})
    void otherSdksTimeoutCapsTheWaitForHeadersAheadOfTheAgent(String announced, long expectedMillis, String lang) {
        RequestDeadlines.Plan p = RequestDeadlines.plan(new ManualTicker(), ROUTE, null, announced, lang.isEmpty() ? null : lang);
        long agentGivesUpMillis = Math.round(Double.parseDouble(announced) * 1000);
        assertEquals(Duration.ofMillis(expectedMillis), p.headersLimit());
        assertTrue(agentGivesUpMillis - expectedMillis >= 100);
        assertEquals(ROUTE, p.deadline().budget(), "the whole call is not capped: the SDK's timeout covers only headers");
        assertTrue(p.headersLimitSource().contains("x-stainless-timeout: " + announced), p.headersLimitSource());
    }

    @Test
    void anAnnouncedTimeoutLaterThanTheRoutesDeadlineChangesNothing() {
        RequestDeadlines.Plan p = RequestDeadlines.plan(new ManualTicker(), Duration.ofSeconds(5), null, "30", "java");
        assertEquals(Duration.ofSeconds(5), p.deadline().budget());
        assertEquals("timeouts.request", p.deadline().source());
        assertNull(p.headersLimit());
    }
}
