package io.modelegress.server.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.modelegress.core.time.ManualTicker;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The fake clock is test code: it reaches proxy-server's tests through proxy-core's test-jar, never the shipped
 * proxy-core classes a production clock could be swapped for.
 */
class ManualTickerIsTestCodeTest {
    @Test
    void comesFromProxyCoresTestClassesNotItsMainClasses() {
        String from = ManualTicker.class.getProtectionDomain().getCodeSource().getLocation().toString();
        assertTrue(from.contains("test-classes") || from.endsWith("-tests.jar"), "ManualTicker loaded from " + from);
    }

    @Test
    void movesOnlyWhenTold() {
        ManualTicker t = new ManualTicker(1_000L);
        long before = t.nanos();
        assertEquals(before, t.nanos());
        t.advance(Duration.ofMillis(250));
        assertEquals(before + 250_000_000L, t.nanos());
        assertEquals(1_250L, t.wallMillis());
    }
}
