package io.modelegress.server.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A minimal HTTP CONNECT proxy on loopback for failover tests that need a proxy that works without Squid: answers
 * CONNECT host:port with 200 and pipes bytes to 127.0.0.1:port (every name is loopback here), or with a scripted
 * status. Each request head is recorded. Blocking threads: it is a test peer, not the sidecar.
 */
public final class TunnelProxy implements AutoCloseable {
    private final ServerSocket server;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private final List<Map<String, String>> heads = new CopyOnWriteArrayList<>();
    private final AtomicInteger connects = new AtomicInteger();
    private final AtomicInteger sockets_ = new AtomicInteger();
    private volatile String ntlmChallenge; // non-null: ask for NTLM on the connection first
    private volatile String refuseWith; // null: tunnel
    private volatile java.util.function.Function<Map<String, String>, String> okHeaders = head -> "";

    public TunnelProxy() throws IOException {
        server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread t = new Thread(this::accept, "tunnel-proxy-accept");
        t.setDaemon(true);
        t.start();
    }

    public int port() { return server.getLocalPort(); }

    public String url() { return "http://127.0.0.1:" + port(); }

    /** CONNECT requests seen (each head's lines, lower-case names; ":request" is the request line). */
    public List<Map<String, String>> heads() { return new ArrayList<>(heads); }

    public int connects() { return connects.get(); }

    /** TCP connections accepted. */
    public int connections() { return sockets_.get(); }

    /**
     * From now on demand NTLM: a CONNECT without an NTLM AUTHENTICATE (type 3) gets a keep-alive 407 with
     * {@code challenge}, and the next CONNECT is read from the same socket; a type 3 opens the tunnel.
     */
    public void demandNtlm(String challenge) { this.ntlmChallenge = challenge; }

    /** Extra header lines ("Name: value\r\n") for the 200 to a CONNECT, computed from its request head. */
    public void okHeaders(java.util.function.Function<Map<String, String>, String> f) { this.okHeaders = f; }

    /** From now on answer CONNECT with this status line (e.g. "503 Service Unavailable"), null to tunnel again. */
    public void refuseWith(String statusLine) { this.refuseWith = statusLine; }

    private void accept() {
        while (!server.isClosed()) {
            try {
                Socket s = server.accept();
                sockets.add(s);
                sockets_.incrementAndGet();
                Thread t = new Thread(() -> serve(s), "tunnel-proxy-conn");
                t.setDaemon(true);
                t.start();
            } catch (IOException e) {
                return;
            }
        }
    }

    private void serve(Socket s) {
        try (s) {
            InputStream in = s.getInputStream();
            OutputStream out = s.getOutputStream();
            Map<String, String> head = readHead(in);
            if (head == null) return;
            heads.add(head);
            connects.incrementAndGet();
            while (ntlmChallenge != null && !isNtlmType3(head.get("proxy-authorization"))) {
                out.write(("HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: NTLM " + ntlmChallenge
                        + "\r\nContent-Length: 0\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
                out.flush();
                head = readHead(in);
                if (head == null) return;
                heads.add(head);
                connects.incrementAndGet();
            }
            String[] line = head.get(":request").split(" ");
            String status = refuseWith;
            if (status != null || !line[0].equals("CONNECT")) {
                out.write(("HTTP/1.1 " + (status == null ? "405 Method Not Allowed" : status)
                        + "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
                return;
            }
            int port = Integer.parseInt(line[1].substring(line[1].lastIndexOf(':') + 1));
            try (Socket up = new Socket(InetAddress.getLoopbackAddress(), port)) {
                sockets.add(up);
                out.write(("HTTP/1.1 200 Connection established\r\n" + okHeaders.apply(head) + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
                out.flush();
                Thread back = new Thread(() -> pipe(up, s), "tunnel-proxy-back");
                back.setDaemon(true);
                back.start();
                pipe(s, up);
                back.join(5_000);
            }
        } catch (IOException | InterruptedException e) {
            // the peer went away
        }
    }

    private static boolean isNtlmType3(String authorization) {
        if (authorization == null || !authorization.startsWith("NTLM ")) return false;
        byte[] m = java.util.Base64.getDecoder().decode(authorization.substring(5).strip());
        return m.length > 12 && m[8] == 3;
    }

    private static void pipe(Socket from, Socket to) {
        try {
            from.getInputStream().transferTo(to.getOutputStream());
            to.shutdownOutput();
        } catch (IOException e) {
            // closed
        }
    }

    private static Map<String, String> readHead(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int c;
        int state = 0;
        while ((c = in.read()) >= 0) {
            b.write(c);
            state = (c == '\r' && (state == 0 || state == 2)) ? state + 1 : (c == '\n' && (state == 1 || state == 3)) ? state + 1 : 0;
            if (state == 4) break;
        }
        if (state != 4) return null;
        String[] lines = b.toString(StandardCharsets.ISO_8859_1).split("\r\n");
        Map<String, String> head = new java.util.LinkedHashMap<>();
        head.put(":request", lines[0]);
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            if (colon > 0) head.put(lines[i].substring(0, colon).trim().toLowerCase(java.util.Locale.ROOT), lines[i].substring(colon + 1).trim());
        }
        return head;
    }

    @Override
    public void close() throws IOException {
        server.close();
        for (Socket s : sockets) s.close();
    }
}
