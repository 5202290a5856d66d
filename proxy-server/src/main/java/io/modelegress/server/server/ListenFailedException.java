package io.modelegress.server.server;

import io.modelegress.core.config.HostPort;
import java.util.Locale;

/**
 * A port of the config could not be bound: names the address, the key that set it and why, in words an operator
 * acts on (the CLI exits 2 with this message, as for any other config problem).
 */
public final class ListenFailedException extends Exception {
    private static final long serialVersionUID = 1L;

    public ListenFailedException(String key, HostPort address, Throwable cause) {
        super("cannot listen on " + address + " (" + key + "): " + reason(cause, key), cause, false, false);
    }

    private static String reason(Throwable cause, String key) {
        String m = cause == null || cause.getMessage() == null ? "" : cause.getMessage().toLowerCase(Locale.ROOT);
        if (m.contains("already in use") || m.contains("error(-98)")) {
            return "the address is already in use; stop what holds the port (another sidecar?) or change " + key;
        }
        if (m.contains("cannot assign requested address") || m.contains("error(-99)")) {
            return "no interface of this host has that address; use 127.0.0.1, 0.0.0.0 or one of its addresses in " + key;
        }
        if (m.contains("permission denied") || m.contains("error(-13)")) {
            return "permission denied (ports below 1024 need privileges); use a higher port in " + key;
        }
        return (cause == null ? "unknown error" : cause.getClass().getSimpleName() + ": " + cause.getMessage()) + "; check " + key;
    }
}
