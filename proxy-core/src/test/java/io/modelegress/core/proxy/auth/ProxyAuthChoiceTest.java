package io.modelegress.core.proxy.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ProxyAuthChoiceTest {
    @ParameterizedTest(name = "[{index}] {0} offered [{1}] password={2} kerberos={3} -> {4}")
    @CsvSource(delimiter = '|', nullValues = "-", textBlock = """
            auto      | Negotiate;NTLM;Basic realm="corp"  | true  | true  | negotiate | strongest
            auto      | Negotiate;NTLM;Basic realm="corp"  | true  | false | ntlm      | strongest
            auto      | Basic realm="corp";NTLM            | true  | false | ntlm      | strongest
            auto      | Basic realm="corp"                 | true  | true  | basic     | strongest
            auto      | Negotiate                          | true  | false | -         | set proxy.auth.principal and keytab
            auto      | NTLM;Basic realm="x"               | false | true  | -         | set proxy.auth.username and password
            auto      | Digest realm="x"                   | true  | true  | -         | offers Digest
            auto      | -                                  | true  | true  | -         | no Proxy-Authenticate
            ntlm      | Negotiate;NTLM                     | true  | true  | ntlm      | proxy.auth.scheme: ntlm
            ntlm      | Negotiate;Basic realm="x"          | true  | true  | -         | not NTLM
            negotiate | Negotiate                          | true  | false | -         | no Kerberos credentials
            basic     | -                                  | true  | false | basic     | proxy.auth.scheme: basic
            basic     | Basic realm="x"                    | false | false | -         | no user name and password
            """)
    void picksTheStrongestOfferedSchemeWeCanAnswer(String configured, String offered, boolean password, boolean kerberos,
                                                   String expected, String why) {
        List<String> headers = offered == null ? List.of() : Arrays.asList(offered.split(";"));
        ProxyAuthChoice.Choice c = ProxyAuthChoice.choose(configured, ProxyAuthChoice.parse(headers),
                new ProxyAuthChoice.Have(password, kerberos));
        assertEquals(expected, c.chosen() ? c.scheme().key() : null, c.why());
        assertTrue(c.why().contains(why), c.why());
    }

    @Test
    void parsesChallengesWithTokensAndSplitsCommaSeparatedOnes() {
        List<ProxyAuthChoice.Offer> offers = ProxyAuthChoice.parse(List.of("NTLM TlRMTVNTUAACAAAA", "Basic realm=\"a, b\", Negotiate"));
        assertEquals(3, offers.size(), offers.toString());
        assertEquals(ProxyAuthChoice.Scheme.NTLM, offers.get(0).scheme());
        assertEquals("TlRMTVNTUAACAAAA", offers.get(0).token());
        assertEquals(ProxyAuthChoice.Scheme.BASIC, offers.get(1).scheme());
        assertEquals(null, offers.get(1).token());
        assertEquals(ProxyAuthChoice.Scheme.NEGOTIATE, offers.get(2).scheme());
    }
}
