package io.modelegress.core.proxy.pac;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** PAC files × URLs through the real sandboxed interpreter, with DNS, our address and the clock faked. */
class PacScriptTest {
    /** Tuesday 2026-03-10 14:30:15 in Berlin (13:30:15 GMT). */
    static final ZonedDateTime NOW = ZonedDateTime.of(2026, 3, 10, 14, 30, 15, 0, ZoneId.of("Europe/Berlin"));

    static final PacHost HOST = new PacHost() {
        final Map<String, List<String>> names = Map.of(
                "intranet.corp.example", List.of("10.20.1.5"),
                "api.openai.com", List.of("162.159.140.245", "2606:4700::6810:1"),
                "v6only.corp.example", List.of("fd00:1234::5"),
                "printer", List.of("192.168.7.9"));

        @Override public List<String> resolve(String host) { return names.getOrDefault(host, List.of()); }
        @Override public List<String> myAddresses() { return List.of("10.20.30.40", "fd00:1234::77"); }
        @Override public ZonedDateTime now() { return NOW; }
    };

    static final Map<String, String> FILES = Map.of(
            "corp", """
                    function FindProxyForURL(url, host) {
                      if (isPlainHostName(host)) return "DIRECT";
                      if (dnsDomainIs(host, ".corp.example")) return "DIRECT";
                      if (isInNet(host, "10.0.0.0", "255.0.0.0")) return "DIRECT";
                      if (shExpMatch(host, "*.openai.com")) return "PROXY a.proxy.corp:3128; PROXY b.proxy.corp:3128; DIRECT";
                      if (shExpMatch(url, "https://*.anthropic.com:443/")) return "HTTPS tls.proxy.corp:443";
                      return "PROXY default.proxy.corp:8080";
                    }
                    """,
            "net", """
                    function FindProxyForURL(url, host) {
                      var ip = dnsResolve(host);
                      if (ip == null) return "PROXY unresolved.proxy:3128";
                      if (isInNet(ip, "162.159.0.0", "255.255.0.0")) return "PROXY cf.proxy:3128";
                      if (isInNet(myIpAddress(), "10.20.0.0", "255.255.0.0")) return "SOCKS5 site.socks:1080";
                      return "DIRECT";
                    }
                    """,
            "levels", """
                    function FindProxyForURL(url, host) {
                      if (localHostOrDomainIs(host, "printer.corp.example")) return "DIRECT";
                      if (dnsDomainLevels(host) >= 3) return "PROXY deep:1";
                      if (!isResolvable(host)) return "PROXY nxdomain:1";
                      return "PROXY shallow:1";
                    }
                    """,
            "time", """
                    function FindProxyForURL(url, host) {
                      if (host == "wd") return weekdayRange("MON", "FRI") && !weekdayRange("SAT", "SUN") ? "PROXY weekday:1" : "DIRECT";
                      if (host == "wdgmt") return weekdayRange("TUE", "GMT") ? "PROXY tuesday:1" : "DIRECT";
                      if (host == "tr") return timeRange(14) && timeRange(9, 17) && !timeRange(13, "GMT") == false ? "PROXY hours:1" : "DIRECT";
                      if (host == "trm") return timeRange(14, 0, 14, 30) && timeRange(14, 30, 10, 14, 30, 20) ? "PROXY minutes:1" : "DIRECT";
                      if (host == "dr") return dateRange("MAR") && dateRange(2026) && dateRange(1, 15) && dateRange(1, "MAR", 31, "MAR")
                          && dateRange("JAN", 2026, "JUN", 2026) && !dateRange("APR") ? "PROXY dates:1" : "DIRECT";
                      return "DIRECT";
                    }
                    """,
            "ex", """
                    function FindProxyForURLEx(url, host) {
                      if (isInNetEx(host, "fd00:1234::/32")) return "DIRECT";
                      if (isInNetEx(myIpAddressEx().split(";")[1], "fd00::/8") && isResolvableEx(host)) return "PROXY [fd00::3128]:3128";
                      return "PROXY v4only:3128";
                    }
                    function FindProxyForURL(url, host) { return "PROXY never-used:1"; }
                    """,
            "sorted", """
                    function FindProxyForURL(url, host) {
                      var list = sortIpAddressList(dnsResolveEx(host));
                      return list == "2606:4700::6810:1;162.159.140.245" && getClientVersion() == "1.0" ? "PROXY sorted:1" : "PROXY unsorted:" + list;
                    }
                    """);

    @ParameterizedTest(name = "[{index}] {0} file, {1} -> {2}")
    @CsvSource(delimiter = '|', textBlock = """
            corp   | https://intranet            | DIRECT
            corp   | https://wiki.corp.example   | DIRECT
            corp   | https://10.1.2.3            | DIRECT
            corp   | https://intranet.corp.example | DIRECT
            corp   | https://api.openai.com      | http://a.proxy.corp:3128 http://b.proxy.corp:3128 DIRECT
            corp   | https://api.anthropic.com   | https://tls.proxy.corp:443
            corp   | http://example.org          | http://default.proxy.corp:8080
            net    | https://api.openai.com      | http://cf.proxy:3128
            net    | https://printer             | socks5://site.socks:1080
            net    | https://nowhere.invalid     | http://unresolved.proxy:3128
            levels | https://printer             | DIRECT
            levels | https://a.b.c.d             | http://deep:1
            levels | https://nx.example          | http://nxdomain:1
            levels | https://intranet.corp.example | http://shallow:1
            time   | https://wd                  | http://weekday:1
            time   | https://wdgmt               | http://tuesday:1
            time   | https://tr                  | http://hours:1
            time   | https://trm                 | http://minutes:1
            time   | https://dr                  | http://dates:1
            ex     | https://v6only.corp.example | DIRECT
            ex     | https://api.openai.com      | http://[fd00::3128]:3128
            ex     | https://nx.example          | http://v4only:3128
            sorted | https://api.openai.com      | http://sorted:1
            """)
    void answersLikeABrowser(String file, String target, String expected) throws Exception {
        PacEngine engine = new PacEngine(HOST, Duration.ofSeconds(2), 64 << 20, 100);
        engine.load(FILES.get(file), file + ".pac", Instant.EPOCH);
        java.net.URI u = java.net.URI.create(target);
        int port = u.getPort() > 0 ? u.getPort() : u.getScheme().equals("https") ? 443 : 80;
        var steps = engine.answer(u.getScheme(), u.getHost(), port).steps();
        String got = String.join(" ", steps.stream().map(s -> s.isDirect() ? "DIRECT" : s.proxy().scheme().text() + "://" + s.proxy().authority()).toList());
        assertEquals(expected, got);
    }

    @Test
    @Timeout(value = 20, unit = TimeUnit.SECONDS)
    void aPacThatLoopsForeverIsStoppedWithinItsTimeLimitAndReported() throws Exception {
        PacEngine engine = new PacEngine(HOST, Duration.ofMillis(200), 64 << 20, 100);
        engine.load("function FindProxyForURL(url, host) { while (true) { try { for(;;){} } catch (e) {} } }", "loop.pac", Instant.EPOCH);
        long t0 = System.nanoTime();
        PacException e = assertThrows(PacException.class, () -> engine.answer("https", "api.openai.com", 443));
        long tookMs = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(tookMs < 5_000, "stopped after " + tookMs + "ms, limit 200ms");
        assertTrue(e.getMessage().contains("loop.pac") && e.getMessage().contains("proxy.pac_timeout"), e.getMessage());
    }

    @Test
    @Timeout(value = 20, unit = TimeUnit.SECONDS)
    void aPacThatAllocatesWithoutBoundIsStopped() throws Exception {
        PacEngine engine = new PacEngine(HOST, Duration.ofSeconds(10), 16 << 20, 100);
        engine.load("function FindProxyForURL(url, host) { var a = []; while (true) a.push('x' + a.length + Math.random()); }", "hog.pac", Instant.EPOCH);
        PacException e = assertThrows(PacException.class, () -> engine.answer("https", "h", 443));
        assertTrue(e.getMessage().contains("allocated more than 16MiB"), e.getMessage());
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @CsvSource(delimiter = '|', textBlock = """
            java.lang.System.exit(1)                                         | java
            Packages.java.lang.Runtime.getRuntime()                          | Packages
            java.lang.Class.forName('java.lang.Runtime')                     | java
            (function(){ return this; })().getClass()                        | getClass
            importPackage(java.io)                                           | importPackage
            """)
    void aPacCannotReachJava(String expression, String word) throws Exception {
        PacEngine engine = new PacEngine(HOST, Duration.ofSeconds(2), 64 << 20, 100);
        engine.load("function FindProxyForURL(url, host) { return String(" + expression + "); }", "escape.pac", Instant.EPOCH);
        PacException e = assertThrows(PacException.class, () -> engine.answer("https", "h", 443));
        assertTrue(e.getMessage().contains("escape.pac"), e.getMessage());
    }

    @Test
    void aBrokenFileKeepsTheLastGoodOneInForceAndIsReported() throws Exception {
        PacEngine engine = new PacEngine(HOST, Duration.ofSeconds(2), 64 << 20, 100);
        engine.load("function FindProxyForURL(u, h) { return 'PROXY good:1'; }", "p.pac", Instant.EPOCH);
        assertThrows(PacException.class, () -> engine.load("function FindProxyForURL(u, h) { return ", "p.pac", Instant.EPOCH.plusSeconds(300)));
        assertEquals("http://good:1", engine.answer("https", "h", 443).steps().get(0).proxy().masked());
        assertTrue(engine.status().lastError().contains("p.pac"), engine.status().toString());
        assertThrows(PacException.class, () -> engine.load("var x = 1;", "p.pac", Instant.EPOCH), "no FindProxyForURL");
    }

    @Test
    void answersAreCachedPerTargetUntilTheFileChanges() throws Exception {
        PacEngine engine = new PacEngine(HOST, Duration.ofSeconds(2), 64 << 20, 100);
        engine.load("var n = 0; function FindProxyForURL(u, h) { n++; return 'PROXY p' + n + ':1'; }", "c.pac", Instant.EPOCH);
        assertEquals("http://p1:1", engine.answer("https", "h", 443).steps().get(0).proxy().masked());
        assertEquals("http://p1:1", engine.answer("https", "h", 443).steps().get(0).proxy().masked());
        assertTrue(engine.cached("https", "h", 443));
        assertEquals("http://p2:1", engine.answer("https", "other", 443).steps().get(0).proxy().masked());
        engine.load("function FindProxyForURL(u, h) { return 'PROXY changed:1'; }", "c.pac", Instant.EPOCH);
        assertEquals("http://changed:1", engine.answer("https", "h", 443).steps().get(0).proxy().masked());
    }
}
