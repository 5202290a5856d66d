package io.modelegress.server.upstream;

import io.netty.handler.proxy.ProxyConnectException;
import java.util.List;

/**
 * The proxy answered CONNECT with a status other than 200: the status line and its {@code Proxy-Authenticate} offers
 * (never credentials), so the failure can be classified (407, 5xx) and an auth scheme chosen.
 */
public final class ProxyStatusException extends ProxyConnectException {
    private static final long serialVersionUID = 1L;
    private final int status;
    private final transient List<String> offers;
    private final boolean closing;

    public ProxyStatusException(String context, int status, String reason, List<String> offers, boolean closing) {
        super(context + ", status: " + status + " " + reason);
        this.status = status;
        this.offers = List.copyOf(offers);
        this.closing = closing;
    }

    public int status() { return status; }

    /** The proxy's {@code Proxy-Authenticate} values, as sent. */
    public List<String> offers() { return offers; }

    /** The proxy said it closes the connection after this answer. */
    public boolean closing() { return closing; }
}
