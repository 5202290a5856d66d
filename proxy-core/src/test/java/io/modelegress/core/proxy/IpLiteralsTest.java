package io.modelegress.core.proxy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.net.InetAddress;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class IpLiteralsTest {

    @ParameterizedTest(name = "{0}")
    @CsvSource({"0.0.0.0, 0", "127.0.0.1, 2130706433", "255.255.255.255, 4294967295", "10.1.2.3, 167838211"})
    void parsesDottedQuads(String text, long value) {
        assertEquals(value, IpLiterals.parseIpv4(text));
    }

    @ParameterizedTest(name = "\"{0}\"")
    @ValueSource(strings = {"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.4.", ".1.2.3.4", "01.2.3.4", "1..2.3",
            "1.2.3.a", "1234.1.1.1", "example.com", "::1", "1.2.3.-4", "+1.2.3.4"})
    void refusesAnythingElseAsIpv4(String text) {
        assertEquals(-1, IpLiterals.parseIpv4(text));
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"::", "::1", "1::", "fe80::1", "2001:db8::52:0:1", "2001:0db8:0000:0000:0000:ff00:0042:8329",
            "1:2:3:4:5:6:7:8", "1::8", "::ffff:10.1.2.3", "64:ff9b::192.0.2.33", "FD00::AB", "1:2:3:4:5:6:1.2.3.4"})
    void parsesIpv6LikeTheJdkDoesForLiterals(String text) throws Exception {
        // InetAddress.getByName does no DNS for a literal; it returns the mapped IPv4 form for ::ffff:a.b.c.d.
        byte[] jdk = InetAddress.getByName(text).getAddress();
        byte[] ours = IpLiterals.parseIpv6(text);
        if (jdk.length == 4) assertEquals(IpLiterals.mappedIpv4(ours), IpLiterals.parseIpv4(text.substring(7)));
        else assertArrayEquals(jdk, ours);
    }

    @ParameterizedTest(name = "\"{0}\"")
    @ValueSource(strings = {"", ":", ":1", "1:", "1:::2", "1::2::3", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", "12345::",
            "g::1", "fe80::1%eth0", "1:2:3:4:5:6:7:1.2.3.4", "::1.2.3", "1::2:", "[::1]", "1.2.3.4", "1:2:3:4:5:6:7:8::"})
    void refusesAnythingElseAsIpv6(String text) {
        assertNull(IpLiterals.parseIpv6(text));
    }
}
