package io.modelegress.core.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ProxyUrlTest {

    @ParameterizedTest(name = "{0} -> {1}://{2}:{3}")
    @CsvSource(delimiter = '|', nullValues = "-", textBlock = """
            # input                                  | scheme  | host              | port  | user       | password
            http://proxy.corp:3128                   | HTTP    | proxy.corp        | 3128  | -          | -
            proxy.corp:3128                          | HTTP    | proxy.corp        | 3128  | -          | -
            proxy.corp                               | HTTP    | proxy.corp        | 80    | -          | -
            localhost                                | HTTP    | localhost         | 80    | -          | -
            127.0.0.1:8080                           | HTTP    | 127.0.0.1         | 8080  | -          | -
            http://proxy.corp                        | HTTP    | proxy.corp        | 80    | -          | -
            http://proxy.corp/                       | HTTP    | proxy.corp        | 80    | -          | -
            http://proxy.corp:                       | HTTP    | proxy.corp        | 80    | -          | -
            HTTP://Proxy.Corp:3128                   | HTTP    | proxy.corp        | 3128  | -          | -
            '  http://proxy.corp:3128  '             | HTTP    | proxy.corp        | 3128  | -          | -
            https://proxy.corp                       | HTTPS   | proxy.corp        | 443   | -          | -
            https://proxy.corp:8443                  | HTTPS   | proxy.corp        | 8443  | -          | -
            socks5://gw.corp                         | SOCKS5  | gw.corp           | 1080  | -          | -
            socks5h://gw.corp:9050                   | SOCKS5H | gw.corp           | 9050  | -          | -
            http://[::1]:3128                        | HTTP    | ::1               | 3128  | -          | -
            http://[FD00::1]                         | HTTP    | fd00::1           | 80    | -          | -
            socks5h://[2001:db8::7]:1080             | SOCKS5H | 2001:db8::7       | 1080  | -          | -
            http://user:pass@proxy.corp:3128         | HTTP    | proxy.corp        | 3128  | user       | pass
            user:pass@proxy.corp:3128                | HTTP    | proxy.corp        | 3128  | user       | pass
            http://user@proxy.corp                   | HTTP    | proxy.corp        | 80    | user       | -
            http://user:@proxy.corp                  | HTTP    | proxy.corp        | 80    | user       | ''
            http://@proxy.corp                       | HTTP    | proxy.corp        | 80    | -          | -
            http://us%65r:p%40ss%3Aw%2Fd@proxy.corp  | HTTP    | proxy.corp        | 80    | user       | p@ss:w/d
            http://dom%5Cuser:a+b%20c@proxy.corp     | HTTP    | proxy.corp        | 80    | dom\\user  | a+b c
            http://user:p@ss@proxy.corp:3128         | HTTP    | proxy.corp        | 3128  | user       | p@ss
            http://j%C3%BCrgen:%E2%82%AC@proxy.corp  | HTTP    | proxy.corp        | 80    | jürgen     | €
            http://bücher.example:3128               | HTTP    | xn--bcher-kva.example | 3128 | -     | -
            http://my_proxy.corp.local.:3128         | HTTP    | my_proxy.corp.local. | 3128 | -     | -
            """)
    void parsesSchemeHostPortAndDecodedCredentials(String input, ProxyUrl.Scheme scheme, String host, int port,
                                                   String user, String password) {
        ProxyUrl url = ProxyUrl.parse(input);
        assertEquals(scheme, url.scheme());
        assertEquals(host, url.host());
        assertEquals(port, url.port());
        assertEquals(user == null ? null : user.replace("\\\\", "\\"), url.username());
        assertEquals(password, url.password());
    }

    @ParameterizedTest(name = "\"{0}\" -> {1}")
    @CsvSource(delimiter = '|', textBlock = """
            # input                          | the message says
            ''                               | proxy URL is empty
            '   '                            | proxy URL is empty
            ftp://proxy.corp:21              | unsupported proxy scheme "ftp" (expected: http, https, socks5 or socks5h)
            socks4://gw.corp                 | unsupported proxy scheme "socks4"
            socks://gw.corp                  | unsupported proxy scheme "socks"
            http://                          | no host
            http://:3128                     | no host
            http://user:pass@                | no host
            http://proxy.corp:0              | port 0 is out of range (expected: 1-65535)
            http://proxy.corp:65536          | port 65536 is out of range
            http://proxy.corp:123456         | the text after ':' is not a port number
            http://proxy.corp:abc            | the text after ':' is not a port number
            http://proxy.corp:-1             | the text after ':' is not a port number
            http://proxy.corp/path           | a proxy URL has no path, query or fragment
            http://proxy.corp?x=1            | a proxy URL has no path, query or fragment
            http://proxy.corp#frag           | a proxy URL has no path, query or fragment
            http://::1:3128                  | an IPv6 proxy address needs brackets
            http://[::1                      | unclosed '['
            http://[proxy.corp]:3128         | in brackets is not an IPv6 address
            http://[::1]x                    | unexpected text after ']'
            http://[fe80::1%25eth0]:3128     | in brackets is not an IPv6 address
            http://proxy corp:3128           | has a character that is not allowed in a host name
            http://user:p%zzss@proxy.corp    | bad percent-escape in the credentials
            http://user:pass%4@proxy.corp    | bad percent-escape in the credentials
            http://user:pa/ss@proxy.corp     | percent-encode them
            """)
    void rejectsGarbageSayingWhatWasExpected(String input, String expectedInMessage) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ProxyUrl.parse(input));
        assertTrue(e.getMessage().contains(expectedInMessage), e.getMessage());
        assertTrue(e.getMessage().contains("expected"), e.getMessage());
    }

    @Test
    void rejectsNullLikeEmpty() {
        assertThrows(IllegalArgumentException.class, () -> ProxyUrl.parse(null));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            http://user:s3cret@proxy.corp:99999
            http://user:s3cret@proxy.corp/extra
            ftp://user:s3cret@proxy.corp
            http://user:s3cret@[::1
            http://user:s3%zzcret@proxy.corp
            """)
    void errorMessagesNeverShowThePassword(String input) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ProxyUrl.parse(input));
        assertFalse(e.getMessage().contains("s3"), e.getMessage());
        assertTrue(e.getMessage().contains("user:***@"), e.getMessage());
    }

    /** Whatever the shape (no host, a user name alone, no scheme), neither a password nor a lone user name is echoed. */
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            http://u:PASS
            http://u:PASS/
            u:PASS
            socks5://u:PASS
            http://u:PASS@
            http://TOKEN@
            http://TOKEN@proxy.corp:99999
            http://TOKEN@proxy.corp:PASS
            http://TOKEN@[::1
            https://TOKEN@proxy.corp/path
            """)
    void errorMessagesNeverShowASecretWhateverTheShape(String input) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ProxyUrl.parse(input));
        assertFalse(e.getMessage().contains("PASS") || e.getMessage().contains("TOKEN"), e.getMessage());
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', textBlock = """
            http://user:pass@proxy.corp:3128     | http://user:***@proxy.corp:3128
            user:pass@proxy.corp                 | http://user:***@proxy.corp:80
            http://user@proxy.corp:3128          | http://***@proxy.corp:3128
            http://proxy.corp                    | http://proxy.corp:80
            https://a:b@proxy.corp               | https://a:***@proxy.corp:443
            socks5h://u:p@[fd00::1]:1080         | socks5h://u:***@[fd00::1]:1080
            http://user:p%40ss@proxy.corp:3128   | http://user:***@proxy.corp:3128
            """)
    void maskedAndToStringHideThePasswordAndShowThePort(String input, String masked) {
        ProxyUrl url = ProxyUrl.parse(input);
        assertEquals(masked, url.masked());
        assertEquals(masked, url.toString());
        assertEquals(masked, String.valueOf(url), "string concatenation uses toString too");
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', textBlock = """
            http://user:pass@proxy.corp:3128       | http://user:***@proxy.corp:3128
            user:pass@proxy.corp:3128              | user:***@proxy.corp:3128
            ftp://user:p@ss@host                   | ftp://user:***@host
            http://user@proxy.corp:3128            | http://***@proxy.corp:3128
            http://proxy.corp:3128                 | http://proxy.corp:3128
            not a url at all                       | not a url at all
            http://u:PASS                          | http://u:***
            u:PASS                                 | u:***
            http://u:PASS/                         | http://u:***/
            http://[::1]:3128                      | http://[::1]:3128
            http://TOKEN@                          | http://***@
            socks5h://:PASS@proxy.corp             | socks5h://:***@proxy.corp
            """)
    void redactCredentialsWorksOnTextThatDoesNotParse(String input, String redacted) {
        assertEquals(redacted, ProxyUrl.redactCredentials(input));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            http://user:pass@proxy.corp        | user:pass
            http://user:p%40ss@proxy.corp      | user:p@ss
            http://user@proxy.corp             | user:
            http://j%C3%BCrgen:x@proxy.corp    | jürgen:x
            """)
    void basicAuthHeaderValueEncodesUserColonPasswordAsUtf8(String input, String pair) {
        String expected = "Basic " + Base64.getEncoder().encodeToString(pair.getBytes(StandardCharsets.UTF_8));
        assertEquals(expected, ProxyUrl.parse(input).basicAuthHeaderValue());
    }

    @Test
    void basicAuthHeaderValueIsNullWithoutCredentials() {
        ProxyUrl url = ProxyUrl.parse("http://proxy.corp:3128");
        assertNull(url.basicAuthHeaderValue());
        assertFalse(url.hasCredentials());
    }

    @ParameterizedTest(name = "{0} resolves at proxy: {1}")
    @CsvSource({"http://p, true", "https://p, true", "socks5h://p, true", "socks5://p, false"})
    void onlyPlainSocks5NeedsTheSidecarToResolveTheTarget(String input, boolean atProxy) {
        assertEquals(atProxy, ProxyUrl.parse(input).resolvesAtProxy());
    }

    @Test
    void authorityBracketsIpv6() {
        assertEquals("[::1]:3128", ProxyUrl.parse("http://[::1]:3128").authority());
        assertEquals("proxy.corp:3128", ProxyUrl.parse("proxy.corp:3128").authority());
    }

    @Test
    void constructorRefusesAPasswordWithoutAUser() {
        assertThrows(IllegalArgumentException.class,
                () -> new ProxyUrl(ProxyUrl.Scheme.HTTP, "p", 80, null, "secret"));
    }
}
