package io.modelegress.core.proxy.auth;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Which scheme to answer a proxy's 407 with, from its {@code Proxy-Authenticate} offers: the configured one, or with
 * {@code proxy.auth.scheme: auto} the strongest offered that we have credentials for — Negotiate, then NTLM, then
 * Basic. A row of early returns over immutable inputs; table-tested.
 */
public final class ProxyAuthChoice {
    private ProxyAuthChoice() {}

    public enum Scheme {
        NEGOTIATE("Negotiate"), NTLM("NTLM"), BASIC("Basic");

        private final String wire;

        Scheme(String wire) { this.wire = wire; }

        /** As written in the headers. */
        public String wire() { return wire; }

        /** As written in config and the access log. */
        public String key() { return name().toLowerCase(Locale.ROOT); }

        static Scheme of(String name) {
            for (Scheme s : values()) if (s.wire.equalsIgnoreCase(name)) return s;
            return null;
        }
    }

    /** One challenge: its scheme (null when we do not speak it), the name as sent, and its token if any. */
    public record Offer(Scheme scheme, String name, String token) {}

    /** What we could answer with: a password (Basic, NTLM), Kerberos (a keytab, a principal or a ticket cache). */
    public record Have(boolean password, boolean kerberos) {}

    /** The choice: a scheme, or none with the reason to give the operator. */
    public record Choice(Scheme scheme, String why) {
        public boolean chosen() { return scheme != null; }
    }

    /** Every challenge of the {@code Proxy-Authenticate} values, in order ("Negotiate", "NTLM TlRMTV...", "Basic realm=..."). */
    public static List<Offer> parse(List<String> headerValues) {
        List<Offer> out = new ArrayList<>();
        for (String value : headerValues) {
            for (String challenge : splitChallenges(value)) {
                String c = challenge.strip();
                if (c.isEmpty()) continue;
                int sp = c.indexOf(' ');
                String name = sp < 0 ? c : c.substring(0, sp);
                String rest = sp < 0 ? null : c.substring(sp + 1).strip();
                Scheme s = Scheme.of(name);
                boolean tokenForm = s == Scheme.NTLM || s == Scheme.NEGOTIATE;
                out.add(new Offer(s, name, tokenForm && rest != null && !rest.isEmpty() ? rest : null));
            }
        }
        return out;
    }

    /** A comma separates challenges only where a new scheme name starts ("Basic realm=\"a, b\", NTLM" is two). */
    private static List<String> splitChallenges(String value) {
        List<String> parts = new ArrayList<>();
        int start = 0;
        boolean quoted = false;
        for (int i = 0; i < value.length(); i++) {
            char ch = value.charAt(i);
            if (ch == '"') quoted = !quoted;
            if (ch != ',' || quoted) continue;
            String next = value.substring(i + 1).stripLeading();
            int end = 0;
            while (end < next.length() && (Character.isLetterOrDigit(next.charAt(end)) || next.charAt(end) == '-')) end++;
            boolean newChallenge = end > 0 && (end == next.length() || next.charAt(end) == ' ') && !next.substring(end).stripLeading().startsWith("=");
            if (newChallenge) {
                parts.add(value.substring(start, i));
                start = i + 1;
            }
        }
        parts.add(value.substring(start));
        return parts;
    }

    /**
     * @param configured {@code proxy.auth.scheme}: basic, ntlm, negotiate or auto
     */
    public static Choice choose(String configured, List<Offer> offers, Have have) {
        List<String> offered = new ArrayList<>();
        for (Offer o : offers) offered.add(o.name());
        String listed = offered.isEmpty() ? "no scheme (no Proxy-Authenticate header)" : String.join(", ", offered);
        if (!configured.equals("auto")) {
            Scheme want = Scheme.valueOf(configured.toUpperCase(Locale.ROOT));
            if (!offers.isEmpty() && !has(offers, want)) {
                return new Choice(null, "the proxy offers " + listed + ", not " + want.wire()
                        + " (proxy.auth.scheme: " + configured + "); set proxy.auth.scheme to one it offers, or auto");
            }
            if (want == Scheme.NEGOTIATE ? !have.kerberos() : !have.password()) {
                return new Choice(null, "proxy.auth.scheme is " + configured + " but " + missing(want));
            }
            return new Choice(want, "proxy.auth.scheme: " + configured);
        }
        for (Scheme s : Scheme.values()) {
            if (!has(offers, s)) continue;
            if (s == Scheme.NEGOTIATE ? have.kerberos() : have.password()) {
                return new Choice(s, "auto: the proxy offers " + listed + "; " + s.wire() + " is the strongest we can answer");
            }
        }
        if (offers.isEmpty()) return new Choice(null, "the proxy answered 407 without saying which scheme it wants (no Proxy-Authenticate)");
        String why = "auto: the proxy offers " + listed + " and none can be answered";
        if (has(offers, Scheme.NEGOTIATE) && !have.kerberos()) why += "; for Negotiate set proxy.auth.principal and keytab (or KRB5CCNAME)";
        if ((has(offers, Scheme.NTLM) || has(offers, Scheme.BASIC)) && !have.password()) why += "; for NTLM or Basic set proxy.auth.username and password";
        return new Choice(null, why);
    }

    private static String missing(Scheme s) {
        return s == Scheme.NEGOTIATE ? "no Kerberos credentials are set (proxy.auth.principal and keytab, or KRB5CCNAME)"
                : "no user name and password are set (proxy.auth.username, password or password_file)";
    }

    private static boolean has(List<Offer> offers, Scheme s) {
        for (Offer o : offers) if (o.scheme() == s) return true;
        return false;
    }
}
