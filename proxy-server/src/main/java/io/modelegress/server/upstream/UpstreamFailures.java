package io.modelegress.server.upstream;

import io.modelegress.core.error.EgressException;
import io.modelegress.core.error.ErrorCode;
import io.modelegress.core.time.Durations;
import io.modelegress.core.timeout.Deadline;
import io.netty.channel.ConnectTimeoutException;
import io.netty.handler.proxy.HttpProxyHandler;
import io.netty.handler.proxy.ProxyConnectException;
import io.netty.handler.ssl.SslHandshakeTimeoutException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.security.cert.CertificateException;
import java.util.Locale;
import javax.net.ssl.SSLException;

/**
 * The one place Netty and JDK exceptions of the connect path are classified into the error catalogue, with a
 * message naming the host, the proxy (masked) and the limit that fired.
 */
public final class UpstreamFailures {
    private UpstreamFailures() {}

    /** The error for an upstream whose credential cannot be sent now (unset, or invalid), or null when it can. */
    public static EgressException credential(io.modelegress.core.config.UpstreamSettings u) {
        if (u.auth() == null) return null;
        io.modelegress.core.config.SecretSource.Resolved cred = u.auth().value().current();
        if (cred.present()) return null;
        ErrorCode code = cred.invalid() ? ErrorCode.CREDENTIAL_INVALID : ErrorCode.CREDENTIAL_MISSING;
        return new EgressException(code, "upstream \"" + u.name() + "\" has no " + (cred.invalid() ? "usable " : "")
                + "credential for " + u.auth().header() + ": " + cred.missingReason());
    }

    /** The upstream closed or reset the connection {@code when} (before a response, before the first data, mid-response). */
    static EgressException closed(String upstream, String when, Throwable cause) {
        return new EgressException(ErrorCode.UPSTREAM_RESET, "upstream \"" + upstream + "\" closed the connection " + when
                + (cause == null ? "" : " (" + simple(cause) + ")"));
    }

    /** A failure that is already classified stays as it is; anything else is a bug: {@code internal_error}. */
    public static EgressException unexpected(Throwable t) {
        if (t instanceof EgressException) return (EgressException) t;
        return new EgressException(ErrorCode.INTERNAL_ERROR, "unexpected failure: " + simple(t), null, t);
    }

    public static EgressException connect(Throwable cause, UpstreamConnector.Target t, InetSocketAddress addr, Deadline.Limit limit) {
        if (cause instanceof EgressException) return (EgressException) cause;
        ProxyHop proxy = t.proxy();
        String what = proxy != null ? "proxy " + proxy.masked() : t.upstream().host() + ":" + t.upstream().port();
        String ip = addr.getAddress() == null ? "" : " (" + addr.getAddress().getHostAddress() + ")";
        if (cause instanceof ConnectTimeoutException) {
            return new EgressException(proxy != null ? ErrorCode.PROXY_CONNECT_TIMEOUT : ErrorCode.UPSTREAM_CONNECT_TIMEOUT,
                    "connect to " + what + ip + " timed out after " + Durations.formatNanos(limit.nanos()) + " (" + limit.key() + ")",
                    null, cause);
        }
        String reason = cause instanceof ConnectException ? "refused the connection" : "could not be reached (" + simple(cause) + ")";
        return new EgressException(proxy != null ? ErrorCode.PROXY_UNREACHABLE : ErrorCode.UPSTREAM_CONNECT_REFUSED,
                what + ip + " " + reason, null, cause);
    }

    public static EgressException proxy(Throwable cause, UpstreamConnector.Target t, Deadline.Limit limit) {
        if (cause instanceof EgressException) return (EgressException) cause;
        if (cause != null && cause.getCause() instanceof EgressException) return (EgressException) cause.getCause(); // classified by the authenticator
        ProxyHop proxy = t.proxy();
        String target = t.upstream().host() + ":" + t.upstream().port();
        if (cause instanceof ProxyStatusException ps) {
            if (ps.status() == 407) return proxyAuthRequired(proxy, cause);
            return new EgressException(ErrorCode.PROXY_REJECTED, "proxy " + proxy.masked() + " refused the tunnel to "
                    + target + ": " + statusLine(cause.getMessage()), null, cause);
        }
        if (cause instanceof HttpProxyHandler.HttpProxyConnectException) {
            String status = statusLine(cause.getMessage());
            if (status.startsWith("407")) return proxyAuthRequired(proxy, cause);
            if (!status.isEmpty()) {
                return new EgressException(ErrorCode.PROXY_REJECTED, "proxy " + proxy.masked() + " refused the tunnel to "
                        + target + ": " + status, null, cause);
            }
        }
        String msg = cause.getMessage() == null ? "" : cause.getMessage().toLowerCase(Locale.ROOT);
        if (proxy.isSocks() && cause instanceof ProxyConnectException) {
            // Netty's Socks5ProxyHandler: "authStatus: FAILURE(255)" (bad password), "unexpected authMethod:
            // UNACCEPTED(255)" (credentials wanted, none offered), "status: HOST_UNREACHABLE(4)" (refused target).
            if (msg.contains("authstatus: failure") || msg.contains("authmethod: unaccepted")) {
                return proxyAuthRequired(proxy, cause);
            }
            int i = msg.indexOf("status: ");
            if (i >= 0 && !msg.contains("authstatus")) {
                return new EgressException(ErrorCode.PROXY_REJECTED, "proxy " + proxy.masked() + " refused the tunnel to "
                        + target + ": " + cause.getMessage().substring(i + "status: ".length()).trim(), null, cause);
            }
        }
        if (cause instanceof ProxyConnectException && msg.contains("timeout")) {
            return new EgressException(ErrorCode.PROXY_CONNECT_TIMEOUT, "proxy " + proxy.masked() + " did not answer "
                    + (proxy.isSocks() ? "the SOCKS handshake" : "CONNECT " + target) + " within "
                    + Durations.formatNanos(limit.nanos()) + " (" + limit.key() + ")", null, cause);
        }
        if (cause instanceof ProxyConnectException && msg.contains("disconnected")) {
            return new EgressException(ErrorCode.PROXY_REJECTED, "proxy " + proxy.masked() + " closed the connection during "
                    + (proxy.isSocks() ? "the SOCKS handshake" : "CONNECT " + target), null, cause);
        }
        return new EgressException(ErrorCode.PROXY_REJECTED, "proxy " + proxy.masked() + " answered something that is not "
                + (proxy.isSocks() ? "a SOCKS5 reply" : "an HTTP response") + " to " + (proxy.isSocks() ? "the handshake for " : "CONNECT ")
                + target + " (" + simple(cause) + ")", null, cause);
    }

    /** Any failure of the connect path as a catalogued one (a bug surfaces as internal_error, never unclassified). */
    public static EgressException asEgress(Throwable cause) {
        if (cause instanceof EgressException) return (EgressException) cause;
        return new EgressException(ErrorCode.INTERNAL_ERROR, "connect failed: " + simple(cause), null, cause);
    }

    /**
     * Whether the proxy itself failed, so the next entry of a failover list may do better: its name did not resolve,
     * it refused or did not take the connection, did not answer CONNECT in time, or answered it with a 5xx.
     * A 407 or a 403 is the proxy working as configured: the next proxy would answer the same.
     */
    public static boolean proxyItselfFailed(EgressException e, ProxyHop hop) {
        if (hop == null) return false;
        switch (e.code()) {
            case PROXY_UNREACHABLE: case PROXY_CONNECT_TIMEOUT: case DNS_RESOLUTION_FAILED: case DNS_TIMEOUT:
                return true;
            case PROXY_REJECTED:
                Throwable c = e.getCause();
                if (c instanceof HttpProxyHandler.HttpProxyConnectException || c instanceof ProxyStatusException) {
                    return statusLine(c.getMessage()).startsWith("5");
                }
                return c instanceof ProxyConnectException && String.valueOf(c.getMessage()).contains("disconnected");
            default:
                return false;
        }
    }

    /** The proxy answered 407, to CONNECT or to an absolute-form request: say which credentials to set. */
    public static EgressException proxyAuthRequired(ProxyHop proxy, Throwable cause) {
        // A user name without a password is often a token: it is named only when a password goes with it.
        return new EgressException(ErrorCode.PROXY_AUTH_REQUIRED, "407 from proxy " + proxy.masked()
                + (proxy.username() == null ? ": the proxy wants credentials and none are set"
                : proxy.password() == null ? ": the proxy refused the user name in the proxy URL (not shown: it may be a token)"
                : ": the proxy refused the credentials of user " + proxy.username()), null, cause);
    }

    public static EgressException tls(Throwable cause, UpstreamConnector.Target t, Deadline.Limit limit) {
        if (cause instanceof EgressException) return (EgressException) cause;
        String target = t.upstream().host() + ":" + t.upstream().port();
        String via = t.proxy() == null ? "" : " (via proxy " + t.proxy().masked() + ")";
        if (cause instanceof SslHandshakeTimeoutException) {
            return new EgressException(ErrorCode.TLS_HANDSHAKE_TIMEOUT, "TLS handshake with " + target + via
                    + " did not complete within " + Durations.formatNanos(limit.nanos()) + " (" + limit.key() + ")", null, cause);
        }
        String reason = certificateReason(cause);
        return new EgressException(ErrorCode.TLS_HANDSHAKE_FAILED, "TLS handshake with " + target + via + " failed: " + reason,
                null, cause);
    }

    private static String certificateReason(Throwable cause) {
        for (Throwable c = cause; c != null; c = c.getCause()) {
            if (c instanceof CertificateException) return "certificate not trusted or not valid for the host (" + c.getMessage() + ")";
        }
        for (Throwable c = cause; c != null; c = c.getCause()) {
            if (c instanceof SSLException && c.getMessage() != null) return c.getMessage();
        }
        return simple(cause);
    }

    /** "407 Proxy Authentication Required" from Netty's "http, none, /127.0.0.1:3128 => host:443, status: 407 ...". */
    private static String statusLine(String message) {
        if (message == null) return "";
        int i = message.indexOf("status: ");
        if (i < 0) return "";
        return message.substring(i + "status: ".length()).trim();
    }

    public static String simple(Throwable t) {
        return t.getClass().getSimpleName() + (t.getMessage() == null ? "" : ": " + t.getMessage());
    }
}
