package io.modelegress.server.events;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.OutputStreamAppender;
import java.io.BufferedOutputStream;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.Flushable;
import java.io.IOException;

/**
 * The access log's appender on stdout: lines go into a 64 KiB buffer and reach the file descriptor when the access
 * log's thread has drained its queue ({@link AccessLogWriter} calls {@link #flush}), one write for the batch. Only
 * that thread appends here. Stopping flushes and leaves stdout open.
 */
public final class StdoutAccessAppender extends OutputStreamAppender<ILoggingEvent> implements Flushable {
    @Override
    public void start() {
        setImmediateFlush(false);
        setOutputStream(new BufferedOutputStream(new FileOutputStream(FileDescriptor.out), 1 << 16));
        super.start();
    }

    @Override
    public void flush() throws IOException {
        streamWriteLock.lock();
        try {
            if (getOutputStream() != null) getOutputStream().flush();
        } finally {
            streamWriteLock.unlock();
        }
    }

    @Override
    protected void closeOutputStream() {
        try {
            flush();
        } catch (IOException e) {
            // stdout is gone: nothing left to tell
        }
    }
}
