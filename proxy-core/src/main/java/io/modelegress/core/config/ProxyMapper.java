package io.modelegress.core.config;

import static io.modelegress.core.config.ConfigMapper.blankToNull;
import static io.modelegress.core.config.ConfigMapper.controlFree;

import io.modelegress.core.proxy.ProxyResolver;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/** Maps the {@code proxy} block (explicit proxies, NO_PROXY, PAC) and its {@code proxy.auth} credentials. */
final class ProxyMapper {
    private ProxyMapper() {}

    static ProxySettings proxy(Section s) {
        String pac = blankToNull(s.string("pac"));
        ProxySettings p = new ProxySettings(s.bool("use_environment"), nonBlank(s.strings("https")),
                nonBlank(s.strings("http")), s.strings("no_proxy"), pac, s.duration("pac_refresh"), s.duration("pac_timeout"),
                s.duration("eject_for"));
        try {
            // Validates the explicit settings only; the environment is read (best effort) at start-up.
            new ProxyResolver(new ProxySettings(false, p.httpsProxies(), p.httpProxies(), p.noProxy(), pac,
                    p.pacRefresh(), p.pacTimeout(), p.ejectFor()), Map.of());
        } catch (IllegalArgumentException e) {
            String msg = e.getMessage();
            String key = msg.startsWith("proxy.https") ? "https" : msg.startsWith("proxy.http") ? "http"
                    : msg.startsWith("proxy.pac") ? "pac" : "no_proxy";
            String head = msg.indexOf(':') > 0 ? msg.substring(0, msg.indexOf(':')) : "";
            String entry = head.matches("proxy\\.https?\\[\\d+\\]") ? "entry " + head.substring(head.indexOf('[')) + ": " : "";
            s.problem(key, msg.startsWith("proxy." + key) ? entry + msg.substring(msg.indexOf(':') + 1).trim() : msg);
        }
        if (pac != null && (p.https() != null || p.http() != null)) {
            s.problem("pac", "set together with proxy." + (p.https() != null ? "https" : "http")
                    + " (expected: either a PAC file or explicit proxies, not both)");
        }
        if (s.has("pac_refresh") && p.pacRefresh().compareTo(java.time.Duration.ofSeconds(1)) < 0) {
            s.problem("pac_refresh", p.pacRefresh() + " (expected: at least 1s)");
        }
        if (p.pacTimeout().isZero()) s.problem("pac_timeout", "0 (expected: a duration > 0, like 1s)");
        return p;
    }

    private static List<String> nonBlank(List<String> values) {
        List<String> out = new ArrayList<>();
        for (String v : values) if (v != null && !v.isBlank()) out.add(v);
        return out;
    }

    private static final Set<String> PROXY_AUTH_SCHEMES = Set.of("basic", "ntlm", "negotiate", "auto");

    static ProxyCredentials proxyAuth(Section s) {
        String user = s.string("username");
        String password = s.string("password");
        String file = s.string("password_file");
        String scheme = s.string("scheme") == null ? "basic" : s.string("scheme").strip().toLowerCase(Locale.ROOT);
        String domain = blankToNull(s.string("domain"));
        String principal = blankToNull(s.string("principal"));
        String keytab = blankToNull(s.string("keytab"));
        String spn = blankToNull(s.string("spn"));
        if (!PROXY_AUTH_SCHEMES.contains(scheme)) {
            s.problem("scheme", "\"" + scheme + "\" (expected: basic, ntlm, negotiate or auto)");
            scheme = "basic";
        }
        if (keytab != null && !Files.isReadable(Path.of(keytab))) {
            s.problem("keytab", "\"" + keytab + "\" is not a readable file (expected: a Kerberos keytab holding " + (principal == null ? "the principal" : principal) + ")");
        }
        if (keytab != null && principal == null) s.problem("principal", "missing (expected: the principal to log in as from proxy.auth.keytab)");
        if (scheme.equals("ntlm") && user == null) s.problem("username", "missing (expected: a user name for scheme ntlm)");
        if (user == null) {
            if (password != null || file != null) s.problem("username", "missing (expected: a user name when a password is set)");
            return new ProxyCredentials(null, null, scheme, domain, principal, keytab, spn);
        }
        if (password != null && file != null) {
            s.problem("password_file", "set together with password (expected: one of password or password_file)");
        }
        if (file != null) {
            try {
                password = Files.readString(Path.of(file)).strip();
            } catch (java.io.IOException e) {
                s.problem("password_file", "\"" + file + "\" cannot be read (expected: a readable file holding the password)");
            }
        }
        controlFree(s, "username", user, "the user name");
        controlFree(s, file != null ? "password_file" : "password", password, file != null ? "the file " + file : "the password");
        return new ProxyCredentials(user, password == null ? "" : password, scheme, domain, principal, keytab, spn);
    }
}
