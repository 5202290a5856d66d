package io.modelegress.server.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;

/**
 * A loopback port with nothing listening on it, for as long as this is open: the port is held by a socket that is
 * bound but never listens, so a connect to it is refused, and no other test (or the OS's ephemeral allocator) can
 * take it meanwhile. Closing and reusing a {@code ServerSocket(0)}'s port leaves that race open.
 */
public final class DeadPort implements AutoCloseable {
    private final Socket holder;

    public DeadPort() {
        holder = new Socket();
        try {
            holder.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        } catch (IOException e) {
            throw new UncheckedIOException("could not reserve a loopback port", e);
        }
    }

    public int port() { return holder.getLocalPort(); }

    /** {@code http://127.0.0.1:<port>}. */
    public String url() { return "http://127.0.0.1:" + port(); }

    @Override
    public void close() {
        try {
            holder.close();
        } catch (IOException ignored) {
            // nothing to release beyond the descriptor
        }
    }
}
