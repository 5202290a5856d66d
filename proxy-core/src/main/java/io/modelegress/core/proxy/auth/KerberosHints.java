package io.modelegress.core.proxy.auth;

import java.util.List;
import java.util.Locale;

/**
 * The likely cause of a Kerberos failure, from the JDK's (MIT-worded) error text, in words an operator can act on:
 * clock skew, a missing SPN, a wrong realm, a stale keytab, an unreachable KDC. Pure; table-tested.
 */
public final class KerberosHints {
    private KerberosHints() {}

    private record Rule(String needle, String hint) {}

    private static final List<Rule> RULES = List.of(
            new Rule("clock skew too great", "clock skew: this host's clock and the KDC's differ by more than the allowed skew (5 minutes by default); check NTP"),
            new Rule("server not found in kerberos database", "missing SPN: the KDC has no service principal for the proxy; register HTTP/<proxy host> for it, or set proxy.auth.spn to the name it has"),
            new Rule("client not found in kerberos database", "the client principal does not exist in that realm: check proxy.auth.principal (wrong name or wrong realm)"),
            new Rule("cannot locate kdc", "no KDC found for the realm: check the [realms] section of krb5.conf (KRB5_CONFIG) and that the realm in proxy.auth.principal is spelled as there (wrong realm)"),
            new Rule("cannot get kdc for realm", "no KDC configured for the realm: wrong realm in proxy.auth.principal, or krb5.conf (KRB5_CONFIG) lacks it"),
            new Rule("unable to locate kdc", "no KDC reachable for the realm: check krb5.conf (KRB5_CONFIG) and the network to the KDC"),
            new Rule("receive timed out", "the KDC did not answer: check the network to the KDC (krb5.conf [realms] kdc)"),
            new Rule("connection refused", "the KDC refused the connection: check the kdc address in krb5.conf (KRB5_CONFIG)"),
            new Rule("pre-authentication information was invalid", "the keytab's key does not match the KDC's: a wrong keytab, or the key changed since it was exported (kvno); export it again"),
            new Rule("integrity check on decrypted field failed", "the keytab's key does not match the KDC's: a wrong keytab or an old key version; export it again"),
            new Rule("checksum failed", "the keytab's key does not match: a wrong keytab or an old key version; export it again"),
            new Rule("cannot find key of appropriate type", "the keytab holds no key for that principal and encryption type: export it again with the KDC's enctypes"),
            new Rule("unable to obtain password from user", "no key for the principal: the keytab holds none for proxy.auth.principal (a wrong realm — realm names are case-sensitive — a wrong name, or the wrong keytab file), or there is no ticket cache (KRB5CCNAME) to use"),
            new Rule("message stream modified", "the realm does not match the KDC's (realm names are case-sensitive): check proxy.auth.principal"),
            new Rule("ticket expired", "the ticket expired and could not be renewed: check the keytab (or run kinit for a ticket cache)"),
            new Rule("no valid credentials provided", "no Kerberos ticket: set proxy.auth.principal and keytab, or provide a ticket cache (KRB5CCNAME)"));

    /** A hint for the failure's message chain, or null when none applies. */
    public static String hint(String errorText) {
        if (errorText == null) return null;
        String t = errorText.toLowerCase(Locale.ROOT);
        for (Rule r : RULES) if (t.contains(r.needle())) return r.hint();
        return null;
    }
}
