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
import io.modelegress.server.upstream.ProxyPlanner;
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
    private final EgressConfig config;
    private final ProxyPlanner proxies;
    private final Dns dns;
    private final SslContext ssl;
    private final Transport transport;
    private final EventLoopGroup group;

    public Doctor(EgressConfig config, Map<String, String> env, Transport transport, EventLoopGroup group) throws Exception {
        this.config = config;
        this.proxies = new ProxyPlanner(config, env);
        this.dns = new Dns(config.dns(), transport.datagramChannel(), config.timeouts().dns());
        this.ssl = TlsContexts.client(config.tls().caBundle());
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
        ProxyHop hop = proxies.hopFor(u);
        c.add("proxy", Status.OK, 0, (hop == null ? "direct: " : "via " + hop.masked() + ": ") + d.reason());
        // Each step gets its configured limit, never the whole request deadline: the probe is capped separately.
        Deadline generous = new Deadline(Ticker.SYSTEM, Duration.ofMinutes(10), "doctor");
        UpstreamConnector.Target target = new UpstreamConnector.Target(u, hop, t, generous);
        DoctorSteps steps = new DoctorSteps(c, target, transport, group.next(), ssl);
        Channel ch = null;
        try {
            String host = hop != null ? hop.host() : u.host();
            InetAddress addr = steps.dns(dns, host, t);
            if (addr == null) return c;
            ch = steps.tcp(addr, hop != null ? hop.port() : u.port(), t);
            if (ch == null) return c;
            if (hop != null) {
                ch = steps.proxyHandshake(ch, addr, t);
                if (ch == null) return c;
            }
            if (u.isTls() && !steps.tls(ch, t)) return c;
            SecretSource.Resolved cred = u.auth() == null ? null : u.auth().value().current();
            if (cred != null && !cred.present()) {
                c.add("auth", Status.WARN, 0, (cred.invalid() ? "no usable credential: " : "no credential: ") + cred.missingReason() + "; probing without one");
            }
            steps.probe(ch, cred != null && cred.present() ? cred.value() : null, t);
            return c;
        } catch (EgressException e) {
            return c;
        } finally {
            if (ch != null) ch.close().awaitUninterruptibly(1, TimeUnit.SECONDS);
        }
    }
}
