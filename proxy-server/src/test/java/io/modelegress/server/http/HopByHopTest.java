package io.modelegress.server.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import java.util.List;
import org.junit.jupiter.api.Test;

class HopByHopTest {
    @Test
    void everyConnectionLineCountsAndWhatTheyNameGoesWithTheFixedNames() {
        HttpHeaders h = new DefaultHttpHeaders()
                .add("Connection", "keep-alive").add("content-type", "application/json")
                .add("Connection", "X-A ,x-b,,").add("X-A", "1").add("x-b", "2").add("X-C", "kept")
                .add("Keep-Alive", "timeout=5").add("Transfer-Encoding", "chunked").add("Proxy-Foo", "1")
                .add("Upgrade", "h2c");
        HopByHop.strip(h);
        assertEquals(List.of("content-type", "X-C"), h.names().stream().sorted(String.CASE_INSENSITIVE_ORDER).toList());
    }

    @Test
    void aConnectionHeaderNamingOnlyFixedNamesYieldsNoTokenList() {
        HttpHeaders h = new DefaultHttpHeaders().add("Connection", "keep-alive").add("Connection", "Upgrade, TE");
        assertSame(List.of(), HopByHop.connectionTokens(h), "the usual case allocates no list");
        assertEquals(List.of("close"), HopByHop.connectionTokens(new DefaultHttpHeaders().add("Connection", "close")));
    }
}
