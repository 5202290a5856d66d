package io.modelegress.server.upstream;

import io.modelegress.core.error.EgressException;
import io.modelegress.core.error.ErrorCode;
import io.modelegress.core.proxy.auth.Ntlm;
import io.modelegress.core.proxy.auth.ProxyAuthChoice;
import io.modelegress.core.proxy.auth.ProxyAuthChoice.Scheme;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What one CONNECT handshake sends to the proxy, step by step: Basic preemptively; NTLM's NEGOTIATE then, on the
 * proxy's challenge, the NTLMv2 AUTHENTICATE; a Negotiate token computed before the connection opened (or after an
 * offer, under {@code auto}) and the proxy's mutual-auth reply checked when it sends one. Under {@code auto} the
 * scheme comes from the proxy's first 407 and is remembered per proxy, so later connections start with it.
 * One instance per connection attempt; touched only on its event loop.
 */
final class ProxyAuthenticator {
    /** The scheme learned per proxy address under {@code auto} (per config generation). */
    static final class Memory {
        private final Map<String, Scheme> learned = new ConcurrentHashMap<>();

        Scheme get(ProxyHop hop) { return learned.get(hop.address()); }

        void learn(ProxyHop hop, Scheme s) { learned.put(hop.address(), s); }

        void forget(ProxyHop hop) { learned.remove(hop.address()); }
    }

    /** The reply to a 407: a header to send now, or one being computed (GSS) to send when ready. */
    record Next(String header, CompletableFuture<String> pending) {}

    /** A 407 with "Connection: close" under auto: the scheme is learned; the connector opens a new connection once. */
    static final class Restart extends RuntimeException {
        Restart() { super("proxy closed the connection after its 407: retrying on a new connection with the chosen scheme", null, false, false); }
    }

    private final ProxyHop hop;
    private final Memory memory;
    private final KerberosClient kerberos; // null: no Kerberos configured
    private Scheme scheme;                 // what we are doing now (null: nothing sent yet)
    private int round;
    private Ntlm.Challenge ntlmChallenge;
    private KerberosClient.Exchange negotiation;

    ProxyAuthenticator(ProxyHop hop, Memory memory, KerberosClient kerberos) {
        this.hop = hop;
        this.memory = memory;
        this.kerberos = kerberos;
        String configured = hop.authScheme();
        this.scheme = configured.equals("auto") ? memory.get(hop) : Scheme.valueOf(configured.toUpperCase(java.util.Locale.ROOT));
        if (scheme == Scheme.BASIC && hop.username() == null) scheme = null; // no credentials: send none, as before
    }

    /** Negotiate needs its token before the first CONNECT: computed on the GSS pool, never on the event loop. */
    CompletableFuture<Void> prepare() {
        if (scheme != Scheme.NEGOTIATE) return CompletableFuture.completedFuture(null);
        if (kerberos == null) {
            return CompletableFuture.failedFuture(new EgressException(ErrorCode.PROXY_AUTH_REQUIRED,
                    "proxy " + hop.masked() + ": proxy.auth.scheme is negotiate but no Kerberos login is configured"));
        }
        return kerberos.start(hop.host(), hop.auth().spn()).thenAccept(x -> negotiation = x);
    }

    String firstHeader() {
        if (scheme == null) return null;
        round = 1;
        return switch (scheme) {
            case BASIC -> hop.basicAuth();
            case NTLM -> "NTLM " + Ntlm.negotiateToken();
            case NEGOTIATE -> "Negotiate " + negotiation.token();
        };
    }

    /** The scheme in use, for the access log and doctor: basic, ntlm, negotiate, or none. */
    String used() {
        return scheme == null ? "none" : scheme.key();
    }

    Next on407(List<String> offers, boolean closing, String context) {
        List<ProxyAuthChoice.Offer> parsed = ProxyAuthChoice.parse(offers);
        if (scheme == Scheme.NTLM && round == 1) {
            String token = tokenOf(parsed, Scheme.NTLM);
            if (token == null) throw refused("answered NTLM's first message without a challenge (offers: " + offers + ")");
            if (closing) throw refused("closed the connection after its NTLM challenge: NTLM needs the 407 and the next CONNECT on one connection");
            try {
                ntlmChallenge = Ntlm.parseChallenge(token);
            } catch (IllegalArgumentException e) {
                throw refused("sent an NTLM challenge that does not parse: " + e.getMessage());
            }
            if (ntlmChallenge.legacyOnly()) {
                throw refused("offers only NTLMv1/LM (its challenge has neither target info nor extended session security); "
                        + "NTLMv1 is refused: enable NTLMv2 on the proxy (LmCompatibilityLevel 3 or higher) or use negotiate");
            }
            round = 2;
            return new Next("NTLM " + Ntlm.authenticateToken(ntlmChallenge, hop.auth().domain(), hop.username(),
                    hop.password() == null ? "" : hop.password(), null), null);
        }
        if (scheme != null) { // we sent credentials and the proxy said no
            memory.forget(hop);
            if (scheme == Scheme.BASIC) throw UpstreamFailures.proxyAuthRequired(hop, null);
            throw refusedCredentials();
        }
        if (hop.authScheme().equals("basic")) throw UpstreamFailures.proxyAuthRequired(hop, null); // as before the schemes
        ProxyAuthChoice.Choice choice = ProxyAuthChoice.choose(hop.authScheme().equals("auto") ? "auto" : hop.authScheme(), parsed,
                new ProxyAuthChoice.Have(hop.username() != null, kerberos != null));
        if (!choice.chosen()) throw refused(choice.why());
        scheme = choice.scheme();
        if (hop.authScheme().equals("auto")) memory.learn(hop, scheme);
        if (closing) throw new Restart();
        if (scheme == Scheme.NEGOTIATE) {
            round = 1;
            return new Next(null, kerberos.start(hop.host(), hop.auth().spn()).thenApply(x -> {
                negotiation = x;
                return "Negotiate " + x.token();
            }));
        }
        return new Next(firstHeader(), null);
    }

    /** A 200: with Negotiate and a token from the proxy, the mutual-auth reply is checked (on the GSS pool). */
    CompletableFuture<Void> on200(List<String> offers) {
        if (scheme != Scheme.NEGOTIATE || negotiation == null) return null;
        String token = tokenOf(ProxyAuthChoice.parse(offers), Scheme.NEGOTIATE);
        if (token == null) return null; // Squid sends none on its CONNECT 200: nothing to check
        return negotiation.verify(token).exceptionally(e -> {
            throw refused("sent a Negotiate reply that failed mutual authentication (" + KerberosClient.describe(e) + ")");
        });
    }

    private static String tokenOf(List<ProxyAuthChoice.Offer> offers, Scheme s) {
        for (ProxyAuthChoice.Offer o : offers) if (o.scheme() == s && o.token() != null) return o.token();
        return null;
    }

    private EgressException refused(String why) {
        return new EgressException(ErrorCode.PROXY_AUTH_REQUIRED, "407 from proxy " + hop.masked() + ": the proxy " + why);
    }

    private EgressException refusedCredentials() {
        String who = hop.username() == null ? "" : (hop.auth().domain() == null ? "" : hop.auth().domain() + "\\") + hop.username();
        String detail = switch (scheme) {
            case BASIC -> "refused the Basic credentials of user " + who;
            case NTLM -> "refused the NTLMv2 response of " + who
                    + (ntlmChallenge != null && ntlmChallenge.targetInfo().length == 0
                    ? " (its challenge carried no target info: it may accept only NTLMv1, which is refused)"
                    : "; check proxy.auth.domain, username and password");
            case NEGOTIATE -> "refused the Kerberos ticket for " + (negotiation == null ? "its SPN" : negotiation.spn())
                    + (kerberos == null ? "" : " of " + kerberos.principalShown()) + "; check that the proxy's keytab holds that SPN";
        };
        return new EgressException(ErrorCode.PROXY_AUTH_REQUIRED, "407 from proxy " + hop.masked() + ": the proxy " + detail);
    }
}
