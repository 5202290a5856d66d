package io.modelegress.server.ops;

import org.slf4j.LoggerFactory;

/** SIGHUP → reload. (SIGTERM is the JVM's shutdown hook.) Uses the JDK's unsupported-but-stable signal API. */
public final class Signals {
    private Signals() {}

    public static void onHangup(Runnable action) {
        try {
            sun.misc.SignalHandler before = sun.misc.Signal.handle(new sun.misc.Signal("HUP"), sig -> action.run());
            if (before == sun.misc.SignalHandler.SIG_IGN) {
                // The JVM leaves a signal ignored at start ignored (nohup does that): SIGHUP would be lost in silence.
                LoggerFactory.getLogger(Signals.class).warn("SIGHUP is ignored by this process (started under nohup, or "
                        + "by a parent that ignores it): it will not reload; the config file watch still does");
            }
        } catch (IllegalArgumentException | UnsupportedOperationException e) {
            LoggerFactory.getLogger(Signals.class).warn("SIGHUP reload unavailable here: {}", e.getMessage());
        }
    }
}
