package io.modelegress.core.config;

import java.util.Locale;

/**
 * {@code proxy.auth}: how to authenticate to proxies whose URL carries no credentials (so a password can come from
 * {@code ${VAR}} or a mounted file instead of being written into a URL). {@code scheme} is {@code basic},
 * {@code ntlm}, {@code negotiate} or {@code auto}; NTLM uses {@code domain}, Negotiate {@code principal},
 * {@code keytab} and {@code spn} (null: {@code HTTP/<proxy host>}). {@link #toString()} never shows the password.
 */
public record ProxyCredentials(String username, String password, String scheme, String domain, String principal,
                               String keytab, String spn) {
    public static final ProxyCredentials NONE = new ProxyCredentials(null, null);

    public ProxyCredentials {
        scheme = scheme == null ? "basic" : scheme.toLowerCase(Locale.ROOT);
    }

    public ProxyCredentials(String username, String password) {
        this(username, password, "basic", null, null, null, null);
    }

    /** A user name (and password) is set: what Basic and NTLM need. */
    public boolean present() { return username != null; }

    /** Some way to authenticate is configured: a user, or Negotiate (which may use the ticket cache alone). */
    public boolean configured() { return present() || scheme.equals("negotiate") || (scheme.equals("auto") && keytab != null); }

    @Override
    public String toString() {
        String who = present() ? username + ":***" : principal != null ? principal : "none";
        return scheme.equals("basic") ? who : scheme + " " + who;
    }
}
