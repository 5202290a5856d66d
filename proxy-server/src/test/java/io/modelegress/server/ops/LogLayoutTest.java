package io.modelegress.server.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.PatternLayout;
import ch.qos.logback.classic.spi.LoggingEvent;
import java.io.IOException;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The sidecar's log lines, written without logback's pattern machinery, say what the patterns they replace said. */
class LogLayoutTest {
    private static final LoggerContext CTX = new LoggerContext();

    static Stream<Arguments> events() {
        IOException nested = new IOException("connect refused", new IllegalStateException("inner"));
        return Stream.of(
                Arguments.of(event("io.modelegress.server.cli.Main", Level.INFO, "listening on {} (admin {})", null, "/127.0.0.1:8080", "/127.0.0.1:9090")),
                Arguments.of(event("io.modelegress.server.cluster.RedisFleet", Level.WARN, "cluster: redis {} does not answer", null, "127.0.0.1:6379")),
                Arguments.of(event("access", Level.ERROR, "{\"status\":502}", null)),
                Arguments.of(event("NoPackage", Level.DEBUG, "a message with no arguments", null)),
                Arguments.of(event("io.netty.util.concurrent.DefaultPromise", Level.TRACE, "", null)),
                Arguments.of(event("io.modelegress.server.upstream.H2Streams", Level.WARN, null, null)),
                Arguments.of(event("io.modelegress.server.upstream.UpstreamConnector", Level.ERROR, "unexpected: {}", nested, "x")));
    }

    private static LoggingEvent event(String logger, Level level, String message, Throwable thrown, Object... args) {
        LoggingEvent e = new LoggingEvent("fqcn", CTX.getLogger(logger), level, message, thrown, args);
        e.setTimeStamp(1_764_675_123_456L);
        return e;
    }

    private static PatternLayout pattern(String p) {
        PatternLayout l = new PatternLayout();
        l.setContext(CTX);
        l.setPattern(p);
        l.start();
        return l;
    }

    @ParameterizedTest
    @MethodSource("events")
    void applicationLinesAreThePatternsLines(LoggingEvent e) {
        String expected = pattern("%d{yyyy-MM-dd'T'HH:mm:ss.SSSXXX} %-5level %logger{0} - %msg%n").doLayout(e);
        assertEquals(expected, LogLayout.application().doLayout(e));
        if (e.getThrowableProxy() != null) assertTrue(expected.contains("Caused by: java.lang.IllegalStateException: inner"), expected);
    }

    @ParameterizedTest
    @MethodSource("events")
    void accessLinesAreTheMessageAndANewline(LoggingEvent e) {
        if (e.getThrowableProxy() != null) return; // the access log never logs an exception
        assertEquals(pattern("%msg%n").doLayout(e), LogLayout.messageOnly().doLayout(e));
    }
}
