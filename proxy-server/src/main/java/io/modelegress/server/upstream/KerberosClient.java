package io.modelegress.server.upstream;

import io.modelegress.core.config.ProxyCredentials;
import io.modelegress.core.error.EgressException;
import io.modelegress.core.error.ErrorCode;
import io.modelegress.core.proxy.auth.KerberosHints;
import java.security.PrivilegedExceptionAction;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import javax.security.auth.Subject;
import javax.security.auth.kerberos.KerberosTicket;
import javax.security.auth.login.AppConfigurationEntry;
import javax.security.auth.login.Configuration;
import javax.security.auth.login.LoginContext;
import org.ietf.jgss.GSSContext;
import org.ietf.jgss.GSSCredential;
import org.ietf.jgss.GSSManager;
import org.ietf.jgss.GSSName;
import org.ietf.jgss.Oid;

/**
 * Kerberos for {@code Negotiate} proxy auth with the JDK's GSS-API alone (SPNEGO over Kerberos 5, no native helper):
 * logs in from {@code proxy.auth.keytab} as {@code principal} (or takes the ticket cache, {@code KRB5CCNAME}), logs
 * in again before the ticket expires, and makes one SPNEGO token per proxy connection for {@code HTTP/<proxy host>}
 * (or {@code proxy.auth.spn}). Every GSS and KDC call runs on a small pool of its own: they block on the network.
 * {@code KRB5_CONFIG} is passed on as {@code java.security.krb5.conf}, the only name the JDK reads.
 */
public final class KerberosClient implements AutoCloseable {
    private static final Oid SPNEGO = oid("1.3.6.1.5.5.2");
    private static final Oid KRB5_PRINCIPAL = oid("1.2.840.113554.1.2.2.1");
    private static final Duration MAX_RENEW_MARGIN = Duration.ofMinutes(5);

    private final ProxyCredentials auth;
    private final String ticketCache;
    private final ExecutorService pool;
    private final AtomicInteger logins = new AtomicInteger();
    private Subject subject;        // pool threads only (synchronized)
    private Instant ticketEnd;
    private Instant ticketStart;

    /** One SPNEGO exchange: the token for the first CONNECT and the check of the proxy's reply, if it sends one. */
    public final class Exchange {
        private final GSSContext context;
        private final String token;
        private final String spn;

        Exchange(GSSContext context, String token, String spn) {
            this.context = context;
            this.token = token;
            this.spn = spn;
        }

        public String token() { return token; }

        public String spn() { return spn; }

        /** The proxy's {@code Negotiate} reply completes mutual authentication, or fails. */
        public CompletableFuture<Void> verify(String replyToken) {
            return CompletableFuture.runAsync(() -> {
                try {
                    byte[] in = Base64.getDecoder().decode(replyToken.strip());
                    context.initSecContext(in, 0, in.length);
                    if (!context.isEstablished()) throw new IllegalStateException("the context is not established after the reply");
                    if (!context.getMutualAuthState()) throw new IllegalStateException("mutual authentication was not achieved");
                } catch (Exception e) {
                    throw new java.util.concurrent.CompletionException(e);
                } finally {
                    dispose(context);
                }
            }, pool);
        }
    }

    private KerberosClient(ProxyCredentials auth, Map<String, String> env) {
        this.auth = auth;
        String cc = env.get("KRB5CCNAME");
        this.ticketCache = cc == null ? null : cc.startsWith("FILE:") ? cc.substring(5) : cc;
        String krb5Conf = env.get("KRB5_CONFIG");
        if (krb5Conf != null && !krb5Conf.isBlank()) System.setProperty("java.security.krb5.conf", krb5Conf.split(":")[0]);
        AtomicInteger n = new AtomicInteger();
        this.pool = Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "egress-gss-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * A client when Kerberos may be used: {@code scheme: negotiate}, or {@code auto} with a keytab, a principal or a
     * ticket cache ({@code KRB5CCNAME}); else null.
     */
    public static KerberosClient of(ProxyCredentials auth, Map<String, String> env) {
        boolean wanted = auth.scheme().equals("negotiate")
                || (auth.scheme().equals("auto") && (auth.keytab() != null || auth.principal() != null || env.get("KRB5CCNAME") != null));
        return wanted ? new KerberosClient(auth, env) : null;
    }

    /** A token for {@code HTTP/<proxyHost>} (or {@code spn}), made on the GSS pool after a login if the ticket is due. */
    public CompletableFuture<Exchange> start(String proxyHost, String spn) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                Subject s = currentSubject();
                return Subject.doAs(s, (PrivilegedExceptionAction<Exchange>) () -> exchange(proxyHost, spn));
            } catch (Exception e) {
                Throwable c = e instanceof java.security.PrivilegedActionException && e.getCause() != null ? e.getCause() : e;
                String target = spn != null ? spn : "HTTP/" + proxyHost;
                throw new EgressException(ErrorCode.PROXY_AUTH_REQUIRED, "Kerberos for proxy " + proxyHost + " (SPN " + target
                        + ", " + principalShown() + ") failed: " + describe(c), null, c);
            }
        }, pool);
    }

    private Exchange exchange(String proxyHost, String spn) throws Exception {
        GSSManager m = GSSManager.getInstance();
        GSSName server = spn != null ? m.createName(spn, KRB5_PRINCIPAL) : m.createName("HTTP@" + proxyHost, GSSName.NT_HOSTBASED_SERVICE);
        GSSCredential cred = m.createCredential(null, GSSCredential.DEFAULT_LIFETIME, SPNEGO, GSSCredential.INITIATE_ONLY);
        GSSContext ctx = m.createContext(server, SPNEGO, cred, GSSContext.DEFAULT_LIFETIME);
        ctx.requestMutualAuth(true);
        ctx.requestCredDeleg(false);
        byte[] token = ctx.initSecContext(new byte[0], 0, 0);
        return new Exchange(ctx, Base64.getEncoder().encodeToString(token), spn != null ? spn : "HTTP/" + proxyHost);
    }

    /** Logs in when there is no ticket yet or it is due for renewal (a quarter of its life left, at most 5 minutes). */
    private synchronized Subject currentSubject() throws Exception {
        Instant now = Instant.now();
        if (subject != null && ticketEnd != null) {
            Duration life = Duration.between(ticketStart, ticketEnd);
            Duration margin = life.dividedBy(4).compareTo(MAX_RENEW_MARGIN) < 0 ? life.dividedBy(4) : MAX_RENEW_MARGIN;
            if (now.isBefore(ticketEnd.minus(margin))) return subject;
        }
        Map<String, Object> opts = new HashMap<>();
        if (auth.keytab() != null) {
            opts.put("useKeyTab", "true");
            opts.put("keyTab", auth.keytab());
            opts.put("storeKey", "true");
        } else {
            opts.put("useTicketCache", "true");
            if (ticketCache != null) opts.put("ticketCache", ticketCache);
            opts.put("renewTGT", "true");
        }
        if (auth.principal() != null) opts.put("principal", auth.principal());
        opts.put("doNotPrompt", "true");
        opts.put("refreshKrb5Config", "true");
        opts.put("isInitiator", "true");
        AppConfigurationEntry entry = new AppConfigurationEntry("com.sun.security.auth.module.Krb5LoginModule",
                AppConfigurationEntry.LoginModuleControlFlag.REQUIRED, opts);
        Configuration config = new Configuration() {
            @Override
            public AppConfigurationEntry[] getAppConfigurationEntry(String name) {
                return new AppConfigurationEntry[] {entry};
            }
        };
        LoginContext lc = new LoginContext("model-egress", new Subject(), null, config);
        lc.login();
        logins.incrementAndGet();
        subject = lc.getSubject();
        ticketStart = now;
        ticketEnd = null;
        for (KerberosTicket t : subject.getPrivateCredentials(KerberosTicket.class)) {
            if (t.getServer().getName().startsWith("krbtgt/")) {
                ticketStart = t.getStartTime() == null ? t.getAuthTime().toInstant() : t.getStartTime().toInstant();
                ticketEnd = t.getEndTime().toInstant();
            }
        }
        return subject;
    }

    /** Logins made so far (each renewal is one): for tests and doctor. */
    public int logins() { return logins.get(); }

    /** When the ticket in use expires, or null before the first login. */
    public synchronized Instant ticketEnd() { return ticketEnd; }

    /** Which credentials are used, for messages (never a key). */
    public String principalShown() {
        if (auth.keytab() != null) return "principal " + auth.principal() + " from keytab " + auth.keytab();
        return (auth.principal() != null ? "principal " + auth.principal() + " from " : "") + "the ticket cache"
                + (ticketCache != null ? " " + ticketCache : "");
    }

    /** The failure's message chain, with the likely cause when one is known. */
    public static String describe(Throwable t) {
        StringBuilder chain = new StringBuilder();
        for (Throwable c = t; c != null && chain.length() < 600; c = c.getCause()) {
            if (c instanceof java.util.concurrent.CompletionException) continue;
            String m = c.getMessage() == null ? c.getClass().getSimpleName() : c.getMessage();
            if (chain.toString().endsWith(m)) continue; // the JDK repeats a cause's message in its wrapper
            if (chain.length() > 0) chain.append(": ");
            chain.append(m);
            if (c.getCause() == c) break;
        }
        String hint = KerberosHints.hint(chain.toString());
        return chain + (hint == null ? "" : " — likely cause: " + hint);
    }

    private static void dispose(GSSContext c) {
        try {
            c.dispose();
        } catch (Exception ignored) {
            // nothing held
        }
    }

    private static Oid oid(String s) {
        try {
            return new Oid(s);
        } catch (org.ietf.jgss.GSSException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        pool.shutdownNow();
    }
}
