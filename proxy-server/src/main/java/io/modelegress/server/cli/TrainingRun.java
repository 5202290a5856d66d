package io.modelegress.server.cli;

import io.modelegress.server.runtime.Transport;
import io.modelegress.server.server.EgressServer;
import io.modelegress.server.ops.Warmup;
import io.modelegress.server.loopback.ScriptedUpstream;
import io.modelegress.server.loopback.Scripts;
import io.modelegress.core.config.ConfigLoader;
import io.modelegress.core.config.EgressConfig;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/**
 * {@code model-egress training-run}: starts the sidecar on ephemeral loopback ports in front of an in-process
 * loopback upstream, sends it the requests a pod's first seconds bring (probes, a scrape, a plain and a streamed
 * completion, a request for no route), checks each answer and stops. Run under {@code -XX:ArchiveClassesAtExit}
 * it records every class start-up and the first requests load: the AppCDS archive the image ships
 * (docs/operations.md, "Start-up"). Nothing leaves 127.0.0.1.
 */
final class TrainingRun {
    private static final int TIMEOUT_MS = 10_000;

    /** One request and the status it must get. */
    private record Call(String name, boolean admin, String request, int status) {}

    private TrainingRun() {}

    static int run(Map<String, String> env, PrintStream out, PrintStream err) {
        Warmup.start();
        try (ScriptedUpstream upstream = new ScriptedUpstream(Transport.best(), "egress-training-upstream", null, 1 << 20,
                Scripts.completion())) {
            EgressConfig cfg = ConfigLoader.parse(config(upstream.port()), "training-run", env::get);
            EgressServer server = new EgressServer(cfg, env).start();
            try {
                return serve(server, out, err);
            } finally {
                server.stop();
            }
        } catch (Exception e) {
            err.println("model-egress: training run failed: " + e);
            return Main.FAILED;
        }
    }

    private static int serve(EgressServer server, PrintStream out, PrintStream err) {
        int served = 0;
        for (Call c : calls()) {
            InetSocketAddress to = c.admin() ? server.adminAddress() : server.agentAddress();
            int status;
            try {
                status = exchange(to, c.request());
            } catch (IOException e) {
                err.println("model-egress: training run: " + c.name() + ": " + e);
                return Main.FAILED;
            }
            if (status != c.status()) {
                err.println("model-egress: training run: " + c.name() + " answered " + status + ", expected " + c.status());
                return Main.FAILED;
            }
            served++;
        }
        out.println("training run OK: " + served + " requests answered as expected");
        return Main.OK;
    }

    private static String config(int upstreamPort) {
        return "server: { listen: 127.0.0.1:0, admin: 127.0.0.1:0, shutdown_delay: 0s, drain_timeout: 1s }\n"
                + "proxy: { use_environment: false }\n"
                + "upstreams:\n"
                + "  local: { url: \"http://127.0.0.1:" + upstreamPort + "\", auth: { header: Authorization, value: \"Bearer training\" } }\n"
                + "routes:\n"
                + "  - { name: chat, prefix: /v1, upstreams: [local] }\n";
    }

    private static List<Call> calls() {
        String chat = "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
        String stream = "{\"model\":\"m\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
        return List.of(
                new Call("/healthz", true, get("/healthz"), 200),
                new Call("/readyz", true, get("/readyz"), 200),
                new Call("/metrics", true, get("/metrics"), 200),
                new Call("a completion", false, post("/v1/chat/completions", chat), 200),
                new Call("a streamed completion", false, post("/v1/chat/completions", stream), 200),
                new Call("a path with no route", false, post("/elsewhere", chat), 404),
                new Call("/metrics after traffic", true, get("/metrics"), 200));
    }

    private static String get(String path) {
        return "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    }

    private static String post(String path, String body) {
        return "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer dummy\r\n"
                + "Content-Type: application/json\r\nContent-Length: " + body.getBytes(StandardCharsets.UTF_8).length
                + "\r\nConnection: close\r\n\r\n" + body;
    }

    /** Sends one request with {@code Connection: close}, reads the answer to its end; returns the status code. */
    private static int exchange(InetSocketAddress to, String request) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(to, TIMEOUT_MS);
            s.setSoTimeout(TIMEOUT_MS);
            OutputStream o = s.getOutputStream();
            o.write(request.getBytes(StandardCharsets.UTF_8));
            o.flush();
            InputStream in = s.getInputStream();
            ByteArrayOutputStream answer = new ByteArrayOutputStream();
            in.transferTo(answer);
            String head = answer.toString(StandardCharsets.ISO_8859_1);
            if (!head.startsWith("HTTP/1.1 ") || head.length() < 12) throw new IOException("no HTTP answer from " + to);
            return Integer.parseInt(head.substring(9, 12));
        }
    }
}
