package io.modelegress.server.testing;

import static org.junit.jupiter.api.Assertions.assertThrows;

import java.net.BindException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** A dead port refuses connections, and stays dead: nothing else can start listening on it while it is held. */
@Timeout(10)
class DeadPortTest {
    @Test
    void aConnectIsRefusedAtOnce() {
        try (DeadPort dead = new DeadPort(); Socket s = new Socket()) {
            assertThrows(ConnectException.class,
                    () -> s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), dead.port()), 5_000));
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void noListenerCanTakeThePortWhileItIsHeld() throws Exception {
        try (DeadPort dead = new DeadPort(); ServerSocket other = new ServerSocket()) {
            other.setReuseAddress(false);
            assertThrows(BindException.class,
                    () -> other.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), dead.port())));
        }
    }
}
