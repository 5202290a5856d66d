package io.modelegress.server.ops;

import io.modelegress.server.events.StdoutAccessAppender;
import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.encoder.LayoutWrappingEncoder;
import ch.qos.logback.core.spi.ContextAwareBase;

/**
 * The sidecar's logging, set up in code (found by logback through the service loader) because parsing an XML
 * config costs about half a second of start-up. Application log: human-readable on stderr. Access log: one JSON
 * line per request on stdout, built and written in batches off the event loops ({@code AccessLog}; lines are
 * dropped, and counted on stderr, when its queue is full).
 * {@code MODEL_EGRESS_LOG_LEVEL} and {@code MODEL_EGRESS_ACCESS_LOG} set the levels. A {@code logback.xml} or
 * {@code -Dlogback.configurationFile} still takes precedence.
 */
public final class LogConfigurator extends ContextAwareBase implements Configurator {
    @Override
    public ExecutionStatus configure(LoggerContext ctx) {
        ClassLoader cl = LogConfigurator.class.getClassLoader();
        boolean fileConfig = System.getProperty("logback.configurationFile") != null
                || cl.getResource("logback-test.xml") != null || cl.getResource("logback.xml") != null;
        if (fileConfig && !"builtin".equals(System.getProperty("modelegress.logging"))) return ExecutionStatus.NEUTRAL;
        ConsoleAppender<ILoggingEvent> stderr = console(ctx, "STDERR", "System.err", LogLayout.application());
        // The access log's own thread (AccessLogWriter) calls this appender and flushes it once per batch: the
        // event loops only queue a line's figures, so no queue of logback's is needed in between.
        StdoutAccessAppender access = new StdoutAccessAppender();
        access.setContext(ctx);
        access.setName("ACCESS");
        access.setEncoder(encoder(ctx, LogLayout.messageOnly()));
        access.start();

        Logger accessLogger = ctx.getLogger("access");
        accessLogger.setLevel(Level.toLevel(System.getenv("MODEL_EGRESS_ACCESS_LOG"), Level.INFO));
        accessLogger.setAdditive(false);
        accessLogger.addAppender(access);
        ctx.getLogger("io.netty").setLevel(Level.WARN);
        // Lettuce warns on every reconnect attempt; RedisFleet logs each change of the link's state once instead.
        ctx.getLogger("io.lettuce").setLevel(Level.ERROR);
        Logger root = ctx.getLogger(Logger.ROOT_LOGGER_NAME);
        root.setLevel(Level.toLevel(System.getenv("MODEL_EGRESS_LOG_LEVEL"), Level.INFO));
        root.addAppender(stderr);
        return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
    }

    private static LayoutWrappingEncoder<ILoggingEvent> encoder(LoggerContext ctx, LogLayout layout) {
        layout.setContext(ctx);
        layout.start();
        LayoutWrappingEncoder<ILoggingEvent> enc = new LayoutWrappingEncoder<>();
        enc.setContext(ctx);
        enc.setLayout(layout);
        enc.start();
        return enc;
    }

    private static ConsoleAppender<ILoggingEvent> console(LoggerContext ctx, String name, String target, LogLayout layout) {
        ConsoleAppender<ILoggingEvent> a = new ConsoleAppender<>();
        a.setContext(ctx);
        a.setName(name);
        a.setTarget(target);
        a.setEncoder(encoder(ctx, layout));
        a.start();
        return a;
    }
}
