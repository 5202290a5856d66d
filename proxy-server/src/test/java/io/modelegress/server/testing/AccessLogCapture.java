package io.modelegress.server.testing;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.List;
import org.slf4j.LoggerFactory;

/** The sidecar's access log lines while open (the "access" logger at INFO into a list); restores the level on close. */
public final class AccessLogCapture implements AutoCloseable {
    private final Logger logger = (Logger) LoggerFactory.getLogger("access");
    private final Level before = logger.getLevel();
    private final ListAppender<ILoggingEvent> appender = new ListAppender<>();

    public AccessLogCapture() {
        appender.start();
        logger.addAppender(appender);
        logger.setLevel(Level.INFO);
    }

    public List<String> lines() {
        return appender.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
    }

    @Override
    public void close() {
        logger.detachAppender(appender);
        logger.setLevel(before);
        appender.stop();
    }
}
