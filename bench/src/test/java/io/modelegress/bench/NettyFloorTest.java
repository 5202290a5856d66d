package io.modelegress.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The load table's floor path must proxy for real, or its figures measure nothing: requests through it get the mock's answers. */
class NettyFloorTest {
    private final BenchTransport transport = BenchTransport.best();
    private final EventLoopGroup group = transport.group(2, "floor-test");

    @AfterEach
    void stop() {
        group.shutdownGracefully(0, 100, TimeUnit.MILLISECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
    }

    @Test
    void keepAliveRequestsThroughTheFloorGetTheUpstreamsAnswers() throws Exception {
        LoadStats stats = new LoadStats();
        Channel mock = MockUpstream.bind(transport, group, new InetSocketAddress("127.0.0.1", 0),
                new MockUpstreamHandler.Behaviour(0, 1, 1), stats);
        Channel floor = NettyFloor.start(transport, group, group, new InetSocketAddress("127.0.0.1", 0),
                (InetSocketAddress) mock.localAddress());
        int port = ((InetSocketAddress) floor.localAddress()).getPort();
        String body = "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(5000);
            OutputStream out = s.getOutputStream();
            InputStream in = s.getInputStream();
            for (int i = 0; i < 3; i++) {  // one agent connection, three requests: the upstream connection is kept
                out.write(("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: "
                        + body.length() + "\r\n\r\n" + body).getBytes(StandardCharsets.US_ASCII));
                out.flush();
                String response = readResponse(in);
                assertTrue(response.startsWith("HTTP/1.1 200"), response);
                assertTrue(response.contains("\"chat.completion\""), response);
            }
        } finally {
            floor.close().sync();
            mock.close().sync();
        }
    }

    /** One response with a Content-Length body, read to its end. */
    private static String readResponse(InputStream in) throws Exception {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        while (!head.toString(StandardCharsets.US_ASCII).endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) throw new AssertionError("closed after: " + head);
            head.write(b);
        }
        String h = head.toString(StandardCharsets.US_ASCII);
        int length = 0;
        for (String line : h.split("\r\n")) {
            if (line.toLowerCase().startsWith("content-length:")) length = Integer.parseInt(line.substring(15).trim());
        }
        assertTrue(length > 0, h);
        byte[] rest = in.readNBytes(length);
        assertEquals(length, rest.length);
        return h + new String(rest, StandardCharsets.UTF_8);
    }
}
