package io.modelegress.server.doctor;

import io.modelegress.core.config.EgressConfig;
import io.modelegress.core.config.RouteSettings;
import io.modelegress.core.config.RouteTarget;
import io.modelegress.core.config.SecretSource;
import io.modelegress.core.config.Timeouts;
import io.modelegress.core.config.UpstreamSettings;
import io.modelegress.core.error.EgressException;
import io.modelegress.core.proxy.ProxyDecision;
import io.modelegress.core.time.Ticker;
import io.modelegress.core.timeout.Deadline;
import io.modelegress.server.doctor.DoctorReport.Status;
import io.modelegress.server.doctor.DoctorReport.UpstreamCheck;
import io.modelegress.server.runtime.Transport;
import io.modelegress.server.upstream.Dns;
import io.modelegress.server.upstream.ProxyHop;
import io.modelegress.server.upstream.PacRunner;
import io.modelegress.server.upstream.ProxyPlanner;
import io.modelegress.server.upstream.ProxyRoute;
import io.modelegress.server.upstream.UpstreamFailures;
import io.modelegress.server.upstream.TlsContexts;
import io.modelegress.server.upstream.UpstreamConnector;
import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.ssl.SslContext;
import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Walks the network path to every upstream step by step — proxy decision, DNS, TCP, proxy handshake, TLS, an HTTP
 * probe with the real credential — each under its own limit, so doctor never hangs. Blocking by design: it runs on
 * the CLI's main thread or a worker thread of the admin port, never on an event loop.
 */
public final class Doctor {
    private static final Duration PAC_WAIT = Duration.ofSeconds(30);
    private final EgressConfig config;
    private final ProxyPlanner proxies;
    private final Dns dns;
    private final SslContext ssl;
    private final Transport transport;
    private final EventLoopGroup group;
    private final UpstreamConnector connector;

    public Doctor(EgressConfig config, Map<String, String> env, Transport transport, EventLoopGroup group) throws Exception {
        this.config = config;
        this.proxies = new ProxyPlanner(config, env);
        this.dns = new Dns(config.dns(), transport.datagramChannel(), config.timeouts().dns());
        this.ssl = TlsContexts.client(config.tls().caBundle());
        this.connector = new UpstreamConnector(transport.socketChannel(), dns, ssl, proxies, new io.modelegress.server.metrics.EgressMetrics());
        this.transport = transport;
        this.group = group;
    }

    /** Checks the upstreams of route {@code routeName}, or all when null. */
    public DoctorReport check(String routeName) {
        DoctorReport report = new DoctorReport();
        try {
            for (UpstreamSettings u : config.upstreams().values()) {
                List<String> routes = new ArrayList<>();
                for (RouteSettings r : config.routes()) {
                    for (RouteTarget t : r.upstreams()) if (t.upstream().equals(u.name())) routes.add(r.name());
                }
                if (routeName != null && !routes.contains(routeName)) continue;
                report.upstreams.add(check(u, routes));
            }
        } finally {
            dns.close();
            proxies.close();
        }
        return report;
    }

    private UpstreamCheck check(UpstreamSettings u, List<String> routes) {
        UpstreamCheck c = new UpstreamCheck(u.name(), u.url().toString(), routes);
        Timeouts t = config.timeouts().with(u.timeouts());
        ProxyDecision d = proxies.decisionFor(u.name());
        if (d.failed()) {
            c.add("proxy", Status.FAIL, 0, d.reason());
            c.hint = "no usable proxy: " + d.reason() + "; fix the proxy URL (proxy.https / HTTPS_PROXY)";
            return c;
        }
        long t0 = System.nanoTime();
        ProxyRoute route;
        try {
            route = proxies.routeFor(u).get(PAC_WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            c.add("proxy", Status.FAIL, ms(t0), cause.getMessage() == null ? cause.toString() : cause.getMessage());
            PacRunner pac = proxies.pac();
            String last = pac == null ? null : pac.status().lastError();
            c.hint = (last != null ? "PAC fetch failure: " + last : "the PAC file (proxy.pac) gave no answer: " + cause.getMessage())
                    + "; check proxy.pac and that the sidecar can reach it directly";
            return c;
        }
        c.add("proxy", Status.OK, ms(t0), describe(route, d));
        if (proxies.pac() != null && proxies.pac().status().lastError() != null) {
            c.add("pac", Status.WARN, 0, proxies.pac().status().lastError());
        }
        List<ProxyRoute.Leg> legs = route.legs();
        for (int i = 0; i < legs.size(); i++) {
            ProxyRoute.Leg leg = legs.get(i);
            EgressException failed = checkLeg(c, u, leg.hop(), t);
            if (failed == null) return c;
            if (i + 1 < legs.size() && UpstreamFailures.proxyItselfFailed(failed, leg.hop())) {
                // Not the path's failure: the request path would take the next entry too.
                int last = c.steps.size() - 1;
                DoctorReport.Step s = c.steps.get(last);
                if (s.status() == Status.FAIL) c.steps.set(last, new DoctorReport.Step(s.name(), Status.WARN, s.millis(), s.detail()));
                c.add("failover", Status.WARN, 0, leg.label() + " (" + leg.step().source() + ") failed at connect ["
                        + failed.code().code() + "]: trying the next entry, " + legs.get(i + 1).label());
                c.hint = null;
                continue;
            }
            return c;
        }
        return c;
    }

    /** One leg of the route, step by step; null when the path worked (or ended in a non-proxy failure), else the failure. */
    private EgressException checkLeg(UpstreamCheck c, UpstreamSettings u, ProxyHop hop, Timeouts t) {
        // Each step gets its configured limit, never the whole request deadline: the probe is capped separately.
        Deadline generous = new Deadline(Ticker.SYSTEM, Duration.ofMinutes(10), "doctor");
        UpstreamConnector.Target target = new UpstreamConnector.Target(u, hop, t, generous);
        DoctorSteps steps = new DoctorSteps(c, target, transport, group.next(), ssl);
        Channel ch = null;
        try {
            if (hop != null && hop.isHttp() && !hop.authScheme().equals("basic") && !target.absoluteForm()) {
                // NTLM, Negotiate and auto: the real handshake of the request path, which says the scheme it used.
                ch = steps.authenticatedTunnel(connector, proxies);
                if (ch == null) return lastFailure(c);
            } else {
                String host = hop != null ? hop.host() : u.host();
                InetAddress addr = steps.dns(dns, host, t);
                if (addr == null) return lastFailure(c);
                ch = steps.tcp(addr, hop != null ? hop.port() : u.port(), t);
                if (ch == null) return lastFailure(c);
                if (hop != null) {
                    ch = steps.proxyHandshake(ch, addr, t);
                    if (ch == null) return lastFailure(c);
                }
                if (u.isTls() && !steps.tls(ch, t)) return null;
            }
            SecretSource.Resolved cred = u.auth() == null ? null : u.auth().value().current();
            if (cred != null && !cred.present()) {
                c.add("auth", Status.WARN, 0, (cred.invalid() ? "no usable credential: " : "no credential: ") + cred.missingReason() + "; probing without one");
            }
            steps.probe(ch, cred != null && cred.present() ? cred.value() : null, t);
            return null;
        } catch (EgressException e) {
            return e;
        } finally {
            if (ch != null) ch.close().awaitUninterruptibly(1, TimeUnit.SECONDS);
        }
    }

    /** The failure the last failed step recorded, as the catalogue code it carried. */
    private static EgressException lastFailure(UpstreamCheck c) {
        DoctorReport.Step last = c.steps.get(c.steps.size() - 1);
        String d = last.detail();
        if (last.status() != Status.FAIL || !d.startsWith("[")) return null;
        String code = d.substring(1, d.indexOf(']'));
        try {
            return new EgressException(io.modelegress.core.error.ErrorCode.fromCode(code), d.substring(d.indexOf(']') + 2));
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    /** "via X: why" plus the failover list, and where the decision came from (environment, config or PAC line). */
    private static String describe(ProxyRoute route, ProxyDecision d) {
        ProxyHop first = route.first();
        StringBuilder b = new StringBuilder(first == null ? "direct: " : "via " + first.masked() + ": ").append(route.reason());
        if (route.isFailover()) {
            b.append(" (failover:");
            for (ProxyRoute.Leg l : route.legs()) b.append(' ').append(l.label()).append(l == route.legs().get(route.legs().size() - 1) ? ")" : ",");
        }
        if (first != null && first.isHttp()) b.append("; auth ").append(first.authScheme().equals("basic") ? (first.username() == null ? "none" : "basic") : first.authScheme());
        return b.toString();
    }

    private static long ms(long t0) { return (System.nanoTime() - t0) / 1_000_000; }
}
