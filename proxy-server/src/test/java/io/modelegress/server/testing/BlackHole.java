package io.modelegress.server.testing;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.util.ArrayList;
import java.util.List;

/**
 * A black-holed address on loopback: a listener that never accepts, its accept queue filled by our own
 * connections, so further SYNs go unanswered and a connect can only time out — like a firewall dropping packets.
 */
public final class BlackHole implements AutoCloseable {
    private final ServerSocket listener;
    private final List<Socket> fillers = new ArrayList<>();

    public BlackHole() throws IOException {
        listener = new ServerSocket();
        listener.bind(new InetSocketAddress("127.0.0.1", 0), 1);
        for (int i = 0; i < 64; i++) {
            Socket s = new Socket();
            try {
                s.connect(listener.getLocalSocketAddress(), 200);
                fillers.add(s);
            } catch (SocketTimeoutException full) {
                s.close();
                return;
            }
        }
        throw new IOException("could not fill the accept queue of a loopback listener");
    }

    public int port() { return listener.getLocalPort(); }

    @Override
    public void close() throws IOException {
        for (Socket s : fillers) s.close();
        listener.close();
    }
}
