package io.modelegress.server.ops;

import org.slf4j.LoggerFactory;

/** SIGHUP → reload. (SIGTERM is the JVM's shutdown hook.) Uses the JDK's unsupported-but-stable signal API. */
public final class Signals {
    private Signals() {}

    public static void onHangup(Runnable action) {
        try {
            sun.misc.Signal.handle(new sun.misc.Signal("HUP"), sig -> action.run());
        } catch (IllegalArgumentException | UnsupportedOperationException e) {
            LoggerFactory.getLogger(Signals.class).warn("SIGHUP reload unavailable here: {}", e.getMessage());
        }
    }
}
