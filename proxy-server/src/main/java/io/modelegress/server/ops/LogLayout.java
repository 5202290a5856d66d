package io.modelegress.server.ops;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.CoreConstants;
import ch.qos.logback.core.LayoutBase;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;

/**
 * The sidecar's two log line shapes, written directly instead of through logback's {@code PatternLayout}, whose
 * pattern parser and converters are about 150 classes loaded at start for two fixed patterns (docs/benchmarks.md,
 * idle RSS). {@link #application()} is {@code %d{yyyy-MM-dd'T'HH:mm:ss.SSSXXX} %-5level %logger{0} - %msg%n} and
 * the exception's stack trace, as before; {@link #messageOnly()} is {@code %msg%n} (the access log's JSON lines).
 */
public final class LogLayout extends LayoutBase<ILoggingEvent> {
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSXXX")
            .withZone(ZoneId.systemDefault());
    private final boolean decorated;

    private LogLayout(boolean decorated) {
        this.decorated = decorated;
    }

    public static LogLayout application() {
        return new LogLayout(true);
    }

    public static LogLayout messageOnly() {
        return new LogLayout(false);
    }

    @Override
    public String doLayout(ILoggingEvent e) {
        String message = String.valueOf(e.getFormattedMessage()); // "null", as %msg writes a null message
        if (!decorated) return message + CoreConstants.LINE_SEPARATOR;
        String logger = e.getLoggerName();
        StringBuilder b = new StringBuilder(64 + message.length());
        TIME.formatTo(Instant.ofEpochMilli(e.getTimeStamp()), b);
        String level = e.getLevel().levelStr;
        b.append(' ').append(level).append("     ", 0, Math.max(0, 5 - level.length())).append(' ')
                .append(logger, logger.lastIndexOf('.') + 1, logger.length()).append(" - ").append(message)
                .append(CoreConstants.LINE_SEPARATOR);
        IThrowableProxy thrown = e.getThrowableProxy();
        if (thrown != null) b.append(ThrowableProxyUtil.asString(thrown)); // each line ends with a separator
        return b.toString();
    }
}
