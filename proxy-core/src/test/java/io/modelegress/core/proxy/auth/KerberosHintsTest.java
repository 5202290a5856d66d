package io.modelegress.core.proxy.auth;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class KerberosHintsTest {
    // Messages as the JDK's Kerberos (sun.security.krb5) words them.
    @ParameterizedTest(name = "[{index}] {0}")
    @CsvSource(delimiter = '|', textBlock = """
            GSSException: No valid credentials provided (Mechanism level: Clock skew too great (37))            | clock skew
            KrbException: Server not found in Kerberos database (7) - LOOKING_UP_SERVER                       | missing SPN
            Client not found in Kerberos database (6)                                                         | does not exist in that realm
            Cannot locate KDC                                                                                 | wrong realm
            KrbException: Cannot get kdc for realm WRONG.REALM                                               | wrong realm
            Pre-authentication information was invalid (24)                                                   | does not match the KDC's
            Integrity check on decrypted field failed (31) - PREAUTH_FAILED                                   | does not match the KDC's
            Unable to obtain password from user                                                               | a wrong realm
            Message stream modified (41)                                                                      | case-sensitive
            """)
    void namesTheLikelyCause(String error, String expected) {
        String hint = KerberosHints.hint(error);
        assertTrue(hint != null && hint.contains(expected), error + " -> " + hint);
    }

    @Test
    void saysNothingWhenItDoesNotKnow() {
        assertNull(KerberosHints.hint("something else entirely"));
        assertNull(KerberosHints.hint(null));
    }
}
