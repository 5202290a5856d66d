package io.modelegress.core.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.modelegress.core.time.ManualTicker;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class ProxyEjectionsTest {
    static final ProxyStep A = new ProxyStep(ProxyUrl.parse("http://a:3128"), "proxy.https[0]");
    static final ProxyStep B = new ProxyStep(ProxyUrl.parse("http://b:3128"), "proxy.https[1]");
    static final ProxyStep DIRECT = ProxyStep.direct("PAC \"DIRECT\"");

    @Test
    void anEjectedProxyGoesToTheBackUntilItsTimeIsUp() {
        ManualTicker clock = new ManualTicker();
        ProxyEjections ej = new ProxyEjections(clock, Duration.ofSeconds(30));
        assertEquals(List.of(A, B, DIRECT), ej.order(List.of(A, B, DIRECT)));
        ej.eject(A);
        assertEquals(List.of(B, DIRECT, A), ej.order(List.of(A, B, DIRECT)));
        assertTrue(ej.isEjected(A));
        clock.advance(Duration.ofSeconds(29));
        assertEquals(Duration.ofSeconds(1).toNanos(), ej.remainingNanos(A));
        clock.advance(Duration.ofSeconds(1));
        assertFalse(ej.isEjected(A));
        assertEquals(List.of(A, B, DIRECT), ej.order(List.of(A, B, DIRECT)));
    }

    @Test
    void whenEveryProxyIsOutTheSoonestBackIsTriedFirstAndDirectIsNeverEjected() {
        ManualTicker clock = new ManualTicker();
        ProxyEjections ej = new ProxyEjections(clock, Duration.ofSeconds(30));
        ej.eject(A);
        clock.advance(Duration.ofSeconds(5));
        ej.eject(B);
        ej.eject(DIRECT);
        assertEquals(List.of(A, B), ej.order(List.of(B, A)));
        assertEquals(List.of(DIRECT, A, B), ej.order(List.of(A, B, DIRECT)));
        ej.restore(B);
        assertEquals(List.of(B, A), ej.order(List.of(A, B)));
    }
}
