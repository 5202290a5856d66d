package io.modelegress.server.testing;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;

/** Loopback ports for the real parts the tests start (Squid, Redis, a KDC): a free one, and whether one accepts. */
public final class LoopbackPorts {
    private LoopbackPorts() {}

    /** A port on 127.0.0.1 that was free a moment ago (the OS's choice). */
    public static int free() throws IOException {
        try (ServerSocket s = new ServerSocket()) {
            s.bind(new InetSocketAddress("127.0.0.1", 0));
            return s.getLocalPort();
        }
    }

    /** Whether something accepts a TCP connection on 127.0.0.1:{@code port} within 200 ms. */
    public static boolean accepts(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 200);
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
