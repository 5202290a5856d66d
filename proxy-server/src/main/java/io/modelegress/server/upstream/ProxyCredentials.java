package io.modelegress.server.upstream;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

/** The Proxy-Authorization value for an HTTP proxy; built per request, never logged. */
final class ProxyCredentials {
    private ProxyCredentials() {}

    static String basic(ProxyHop p) {
        String pair = p.username() + ":" + (p.password() == null ? "" : p.password());
        return "Basic " + Base64.getEncoder().encodeToString(pair.getBytes(StandardCharsets.UTF_8));
    }
}
