package io.modelegress.core.config;

/**
 * {@code proxy.auth}: credentials for proxies whose URL carries none (so a password can come from {@code ${VAR}} or a
 * mounted file instead of being written into a URL). {@link #toString()} never shows the password.
 */
public record ProxyCredentials(String username, String password) {
    public static final ProxyCredentials NONE = new ProxyCredentials(null, null);

    public boolean present() { return username != null; }

    @Override
    public String toString() { return present() ? username + ":***" : "none"; }
}
