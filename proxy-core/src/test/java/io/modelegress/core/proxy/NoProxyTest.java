package io.modelegress.core.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.management.ManagementFactory;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class NoProxyTest {

    private static NoProxy env(String value) {
        return NoProxy.builder().addBestEffort("NO_PROXY", value).build();
    }

    /** "-": the proxy applies; "loopback:X": the built-in rule X matched; else the NO_PROXY entry that matched. */
    private static void assertMatch(String noProxy, String host, int port, String expected) {
        NoProxy.Match match = env(noProxy).match(host, port);
        String description = "NO_PROXY=\"" + noProxy + "\" for " + host + ":" + port;
        if (expected.equals("-")) {
            assertNull(match, description);
        } else if (expected.startsWith("loopback:")) {
            assertTrue(match != null && match.isLoopbackRule(), description + " got " + match);
            assertEquals(expected.substring("loopback:".length()), match.entry(), description);
        } else {
            assertTrue(match != null && !match.isLoopbackRule(), description + " got " + match);
            assertEquals(expected, match.entry(), description);
            assertEquals("NO_PROXY", match.source());
        }
    }

    // curl's tests/unit/unit1614.c, with our answers. Differences are deliberate: loopback is always direct.
    @ParameterizedTest(name = "[{index}] {0} in \"{1}\" -> {2}")
    @CsvSource(delimiter = '|', textBlock = """
            www.example.com    | localhost .example.com .example.de       | .example.com
            www.example.com    | localhost,.example.com,.example.de       | .example.com
            www.example.com.   | localhost,.example.com,.example.de       | .example.com
            example.com        | localhost,.example.com,.example.de       | .example.com
            example.com.       | localhost,.example.com,.example.de       | .example.com
            www.example.com    | localhost,.example.com.,.example.de      | .example.com.
            www.example.com    | localhost,www.example.com.,.example.de   | www.example.com.
            example.com        | localhost,example.com,.example.de        | example.com
            example.com.       | localhost,example.com,.example.de        | example.com
            nexample.com       | localhost,example.com,.example.de        | -
            www.example.com    | localhost,example.com,.example.de        | example.com
            127.0.0.1          | 127.0.0.1,localhost                      | loopback:127.0.0.0/8
            127.0.0.1          | 127.0.0.1/8,localhost,                   | loopback:127.0.0.0/8
            127.0.0.1          | localhost,127.0.0.1.127.0.0.1.127.0.0.1  | loopback:127.0.0.0/8
            localhost          | localhost,127.0.0.1                      | loopback:localhost
            foobar             | barfoo                                   | -
            foobar             | foobar                                   | foobar
            192.168.0.1        | foobar                                   | -
            192.168.0.1        | 192.168.0.0/16                           | 192.168.0.0/16
            192.168.0.1        | 192.168.0.0/24                           | 192.168.0.0/24
            192.168.0.1        | 192.168.0.0/32                           | -
            192.168.0.1        | 192.168.0.0                              | -
            192.168.1.1        | 192.168.0.0/24                           | -
            192.168.1.1        | foo, bar, 192.168.0.0/24                 | -
            192.168.1.1        | foo, bar, 192.168.0.0/16                 | 192.168.0.0/16
            [::1]              | foo, bar, 192.168.0.0/16                 | loopback:::1
            [fd00::1]          | foo, bar, 192.168.0.0/16                 | -
            [fd00::1]          | foo, bar, fd00::1/64                     | fd00::1/64
            bar                | foo, bar, ::1/64                         | bar
            BAr                | foo, bar, ::1/64                         | bar
            BAr                | 'foo,,,,,              bar, ::1/64'      | bar
            www.example.com    | foo, .example.com                        | .example.com
            www.example.com    | www2.example.com, .example.net           | -
            example.com        | .example.com, .example.net               | .example.com
            nonexample.com     | .example.com, .example.net               | -
            10.0.0.1           | 10.0.0.1/31                              | 10.0.0.1/31
            10.0.0.1           | 10.0.0.1/28                              | 10.0.0.1/28
            10.0.0.1           | 10.0.0.1.10.0.0.1.10.0.0.1               | -
            """)
    void agreesWithCurlsTableExceptWhereLoopbackIsAlwaysDirect(String host, String noProxy, String expected) {
        assertMatch(noProxy, host, 443, expected);
    }

    private static final String GO_NO_PROXY = "foobar.com, .barbaz.net, *.wildcard.io, 192.168.1.1, 192.168.1.2:81,"
            + " 192.168.1.3:80, 10.0.0.0/30, 2001:db8::52:0:1, [2001:db8::52:0:2]:443, [2001:db8::52:0:3]:80,"
            + " 2002:db8:a::45/64";

    // golang.org/x/net/http/httpproxy TestUseProxy (port 80), with our answers; two rows differ on purpose (see docs).
    @ParameterizedTest(name = "[{index}] {0} -> {1}")
    @CsvSource(delimiter = '|', textBlock = """
            localhost                      | loopback:localhost
            127.0.0.1                      | loopback:127.0.0.0/8
            127.0.0.2                      | loopback:127.0.0.0/8
            [::1]                          | loopback:::1
            [::2]                          | -
            192.168.1.1                    | 192.168.1.1
            192.168.1.2                    | -
            192.168.1.3                    | 192.168.1.3:80
            192.168.1.4                    | -
            10.0.0.2                       | 10.0.0.0/30
            10.0.0.4                       | -
            [2001:db8::52:0:1]             | 2001:db8::52:0:1
            [2001:db8::52:0:2]             | -
            [2001:db8::52:0:3]             | [2001:db8::52:0:3]:80
            [2002:db8:a::123]              | 2002:db8:a::45/64
            [fe80::424b:c8be:1643:a1b6]    | -
            barbaz.net                     | .barbaz.net
            www.barbaz.net                 | .barbaz.net
            foobar.com                     | foobar.com
            www.foobar.com                 | foobar.com
            foofoobar.com                  | -
            baz.com                        | -
            localhost.net                  | -
            local.localhost                | loopback:localhost
            barbarbaz.net                  | -
            wildcard.io                    | -
            nested.wildcard.io             | *.wildcard.io
            awildcard.io                   | -
            """)
    void agreesWithGosTableExceptLeadingDotAndLocalhostSubdomains(String host, String expected) {
        assertMatch(GO_NO_PROXY, host, 80, expected);
    }

    // Go's proxyForURL NO_PROXY rows, internationalised names included.
    @ParameterizedTest(name = "[{index}] {1} in \"{0}\" -> {2}")
    @CsvSource(delimiter = '|', textBlock = """
            example.com         | example.com                  | example.com
            .example.com        | example.com                  | .example.com
            ample.com           | example.com                  | -
            example.com         | foo.example.com              | example.com
            .foo.com            | example.com                  | -
            .示例.com           | www.示例.com                 | .示例.com
            xn--fsq092h.com     | www.示例.com                 | xn--fsq092h.com
            示例.com            | www.xn--fsq092h.com          | 示例.com
            example.com         | 1000::%.example.com          | -
            example.com         | [1000::%25.example.com]      | -
            """)
    void agreesWithGosProxyForUrlRowsIncludingIdn(String noProxy, String host, String expected) {
        assertMatch(noProxy, host, 443, expected);
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @ValueSource(strings = {"example.com", "10.1.2.3", "[fd00::1]", "localhost", "api.openai.com."})
    void starAloneSendsEverythingDirect(String host) {
        NoProxy.Match match = env("*").match(host, 443);
        assertTrue(match != null, host);
    }

    @Test
    void starIsReportedOnlyWhenNoSpecificEntryMatched() {
        assertEquals("example.com", env("*, example.com").match("example.com", 443).entry());
        assertEquals("*", env("*, example.com").match("other.org", 443).entry());
    }

    // Our rules beyond the two tables.
    @ParameterizedTest(name = "[{index}] {1}:{2} in \"{0}\" -> {3}")
    @CsvSource(delimiter = '|', textBlock = """
            # no_proxy                      | host                   | port | expected
            EXAMPLE.COM                     | api.Example.Com        | 443  | EXAMPLE.COM
            example.com                     | api.example.com.       | 443  | example.com
            example.com.                    | example.com            | 443  | example.com.
            *.example.com                   | api.example.com        | 443  | *.example.com
            *.example.com                   | a.b.example.com        | 443  | *.example.com
            *.example.com                   | example.com            | 443  | -
            *.example.com                   | notexample.com         | 443  | -
            .example.com                    | notexample.com         | 443  | -
            example.com                     | example.com.evil.org   | 443  | -
            example.com:8443                | example.com            | 8443 | example.com:8443
            example.com:8443                | example.com            | 443  | -
            example.com:8443                | api.example.com        | 8443 | example.com:8443
            *.example.com:8443              | api.example.com        | 443  | -
            10.1.2.3:8080                   | 10.1.2.3               | 8080 | 10.1.2.3:8080
            10.1.2.3:8080                   | 10.1.2.3               | 443  | -
            [fd00::5]:8080                  | [fd00::5]              | 8080 | [fd00::5]:8080
            [fd00::5]:8080                  | fd00::5                | 8080 | [fd00::5]:8080
            [fd00::5]:8080                  | fd00::5                | 80   | -
            [fd00::5]                       | [FD00:0:0::5]          | 443  | [fd00::5]
            fd00::/8                        | [fd12:3456::1]         | 443  | fd00::/8
            fd00::/8                        | [fe80::1]              | 443  | -
            [fd00::]/8                      | fd12::1                | 443  | [fd00::]/8
            10.0.0.0/8                      | 10.255.255.255         | 443  | 10.0.0.0/8
            10.0.0.0/8                      | 11.0.0.1               | 443  | -
            10.0.0.0/8                      | [::ffff:10.1.2.3]      | 443  | 10.0.0.0/8
            10.1.2.3/8                      | 10.200.0.1             | 443  | 10.1.2.3/8
            0.0.0.0/0                       | 203.0.113.7            | 443  | 0.0.0.0/0
            0.0.0.0/0                       | example.com            | 443  | -
            ::/0                            | [2001:db8::1]          | 443  | ::/0
            10.0.0.0/8                      | ten.example.com        | 443  | -
            192.168.1.1                     | 192.168.1.1.           | 443  | 192.168.1.1
            1.1                             | 1.1.1.1                | 443  | -
            svc.cluster.local               | api.svc.cluster.local  | 443  | svc.cluster.local
            'a.com  b.com'                  | b.com                  | 443  | b.com
            'a.com,	b.com'                  | b.com                  | 443  | b.com
            ',,a.com,,'                     | a.com                  | 443  | a.com
            'http://example.com, a.com'     | example.com            | 443  | -
            'foo*bar.com, a.com'            | a.com                  | 443  | a.com
            ::1                             | [::1]                  | 443  | loopback:::1
            127.0.0.1                       | 127.1.2.3              | 443  | loopback:127.0.0.0/8
            -                               | localhost              | 443  | loopback:localhost
            -                               | LOCALHOST.             | 443  | loopback:localhost
            -                               | api.localhost          | 443  | loopback:localhost
            -                               | [::ffff:127.0.0.1]     | 443  | loopback:127.0.0.0/8
            -                               | localhost.example.com  | 443  | -
            -                               | 0.0.0.0                | 443  | -
            -                               | example.com            | 443  | -
            """)
    void coversCaseTrailingDotsWildcardsPortsCidrAndLoopback(String noProxy, String host, int port, String expected) {
        assertMatch(noProxy.equals("-") ? "" : noProxy, host, port, expected);
    }

    @ParameterizedTest(name = "[{index}] \"{0}\"")
    @ValueSource(strings = {"", ".", "[", "[]", "[::1", "]"})
    void oddHostsNeverMatchAndNeverThrow(String host) {
        assertNull(env("example.com").match(host, 443));
        assertNull(env("example.com").match(null, 443));
    }

    @Test
    void splitUsesCommasAndWhitespaceAndDropsEmptyPieces() {
        assertEquals(List.of("a", "b", "c", "d"), NoProxy.split(" a,b  c,\t,\nd, "));
        assertEquals(List.of(), NoProxy.split(" ,, "));
        assertEquals(List.of(), NoProxy.split(null));
    }

    // Bad entries: skipped from the environment (curl and Go do the same), an error with the key from config.
    @ParameterizedTest(name = "[{index}] \"{0}\" -> {1}")
    @CsvSource(delimiter = '|', textBlock = """
            http://example.com     | looks like a URL
            foo*bar.com            | '*' is allowed only alone or as a leading "*."
            *foo.com               | '*' is allowed only alone or as a leading "*."
            *.                     | no host or domain
            .                      | no host or domain
            :80                    | no host or domain
            example.com:           | the port is not a number
            example.com:http       | the port is not a number
            example.com:0          | the port is out of range
            example.com:70000      | the port is out of range
            10.0.0.0/33            | an IPv4 prefix length is 0-32
            fd00::/129             | an IPv6 prefix length is 0-128
            10.0.0.0/x             | the prefix length after '/' is not a number
            10.0.0.0/              | the prefix length after '/' is not a number
            example.com/8          | a CIDR block needs an IP address before '/'
            [example.com]          | brackets must hold an IPv6 address
            [::1                   | unclosed '['
            [::1]8080              | unexpected text after ']'
            fd00::1::2             | not an IPv6 address
            exa mple.com           | -
            a..b.com               | is not allowed in a host name here
            exam!ple.com           | is not allowed in a host name here
            """)
    void invalidEntriesAreIgnoredFromTheEnvironmentButFailFromConfig(String entry, String why) {
        if (why.equals("-")) { // whitespace splits it into two valid entries
            assertEquals(List.of(), env(entry).ignored());
            return;
        }
        NoProxy fromEnv = env(entry + ", ok.example");
        assertEquals(1, fromEnv.ignored().size(), fromEnv.ignored().toString());
        assertTrue(fromEnv.ignored().get(0).contains(why), fromEnv.ignored().get(0));
        assertTrue(fromEnv.ignored().get(0).startsWith("NO_PROXY entry \"" + entry + "\""), fromEnv.ignored().get(0));
        assertEquals(List.of("ok.example"), fromEnv.entries());

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> NoProxy.builder().addValidated("proxy.no_proxy", entry).build());
        assertTrue(e.getMessage().startsWith("proxy.no_proxy: entry \"" + entry + "\""), e.getMessage());
        assertTrue(e.getMessage().contains(why), e.getMessage());
        assertTrue(e.getMessage().contains("(expected: "), e.getMessage());
    }

    @Test
    void matchSaysWhichSourceItCameFrom() {
        NoProxy noProxy = NoProxy.builder()
                .addValidated("proxy.no_proxy", ".svc.cluster.local")
                .addBestEffort("no_proxy", "10.0.0.0/8")
                .build();
        assertEquals(new NoProxy.Match(".svc.cluster.local", "proxy.no_proxy", -1), noProxy.match("a.svc.cluster.local", 443));
        assertEquals(new NoProxy.Match("10.0.0.0/8", "no_proxy", -1), noProxy.match("10.9.8.7", 443));
        assertEquals(List.of(".svc.cluster.local", "10.0.0.0/8"), noProxy.entries());
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @CsvSource(delimiter = '|', textBlock = """
            .svc.cluster.local  | api.svc.cluster.local | 443  | NO_PROXY entry ".svc.cluster.local" matches api.svc.cluster.local
            example.com:8443    | example.com           | 8443 | NO_PROXY entry "example.com:8443" matches example.com:8443
            [fd00::5]:8080      | fd00::5               | 8080 | NO_PROXY entry "[fd00::5]:8080" matches [fd00::5]:8080
            ''                  | 127.0.0.1             | 443  | 127.0.0.1 is loopback (built-in loopback rule "127.0.0.0/8"): always direct
            """)
    void matchExplainsItselfInOneLine(String noProxy, String host, int port, String explanation) {
        assertEquals(explanation, env(noProxy).match(host, port).explain(host, port));
    }

    @Test
    void loopbackOnlyMatchesNothingElse() {
        assertTrue(NoProxy.LOOPBACK_ONLY.matches("localhost", 80));
        assertFalse(NoProxy.LOOPBACK_ONLY.matches("api.openai.com", 443));
        assertEquals(List.of(), NoProxy.LOOPBACK_ONLY.entries());
    }

    @Test
    void matchingNamesAndIpv4AllocatesNothing() {
        com.sun.management.ThreadMXBean threads;
        try {
            threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        } catch (ClassCastException e) {
            threads = null;
        }
        assumeTrue(threads != null && threads.isThreadAllocatedMemorySupported(), "needs allocation counters");
        threads.setThreadAllocatedMemoryEnabled(true);
        NoProxy noProxy = env(".svc.cluster.local, *.corp.example, 10.0.0.0/8, 192.168.0.0/16, example.com:8443, ::1");
        String[] hosts = {"api.openai.com", "x.svc.cluster.local", "10.1.2.3", "203.0.113.9", "Example.COM", "localhost"};
        int hits = 0;
        for (int i = 0; i < 20_000; i++) hits += noProxy.match(hosts[i % hosts.length], 443) == null ? 0 : 1; // warm up
        long thread = Thread.currentThread().getId();
        long before = threads.getThreadAllocatedBytes(thread);
        for (int i = 0; i < 10_000; i++) hits += noProxy.match(hosts[i % hosts.length], 443) == null ? 0 : 1;
        long allocated = threads.getThreadAllocatedBytes(thread) - before;
        assertTrue(hits > 0);
        assertTrue(allocated < 16 * 1024, "10,000 matches allocated " + allocated + " bytes");
    }
}
