package io.modelegress.server.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The command line as operators and scripts use it: exit codes and what is printed. */
class MainTest {
    @TempDir
    Path dir;

    record Result(int code, String out, String err) {}

    static Result run(Map<String, String> env, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Main.run(args, env, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    private Path write(String yaml) throws Exception {
        Path f = dir.resolve("egress.yaml");
        Files.writeString(f, yaml);
        return f;
    }

    private static final String VALID = "upstreams:\n  openai:\n    url: https://api.openai.com\n  azure:\n    url: https://x.openai.azure.com\n"
            + "routes:\n  - { name: openai, prefix: /v1, upstreams: [openai] }\n";

    @Test
    void checkConfigAcceptsAValidFile() throws Exception {
        Result r = run(Map.of(), "check-config", "--config", write(VALID).toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().startsWith("config OK: "), r.out());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "unknown key | server:\\n  listn: 127.0.0.1:1\\n | egress.yaml:2: server.listn: unknown key (did you mean \"listen\"?)",
        "wrong type | retry:\\n  max_attempts: [1]\\n | egress.yaml:2: retry.max_attempts: ",
        "bad url | upstreams:\\n  x:\\n    url: not a url\\n | egress.yaml:3: upstreams.x.url: ",
        "bad duration | timeouts:\\n  connect: 5 sec\\n | egress.yaml:2: timeouts.connect: \"5 sec\" is not valid (expected: a duration like 250ms, 5s or 2m)",
        "bad size | server:\\n  max_request_body: 32 megs\\n | egress.yaml:2: server.max_request_body: \"32 megs\" is not valid (expected: a size",
        "unknown upstream | routes:\\n  - { prefix: /x, upstreams: [azur] }\\n | routes[1].upstreams[0]: unknown upstream \"azur\" (did you mean \"azure\"?)",
        "duplicate prefix | routes:\\n  - { name: again, prefix: /v1, upstreams: [azure] }\\n | routes[1].prefix: \"/v1\" is also the prefix of route \"openai\"",
        "bad proxy | proxy:\\n  https: ftp://proxy:21\\n | egress.yaml:2: proxy.https: ",
    })
    void invalidConfigExitsTwoWithKeyFileAndLineAndNoStackTrace(String name, String bad, String expected) throws Exception {
        String yaml = bad.replace("\\n", "\n");
        String full = yaml.startsWith("routes:") ? VALID + yaml.substring("routes:\n".length())
                : yaml.startsWith("upstreams:") ? yaml + VALID.substring("upstreams:\n".length()) : yaml + VALID;
        Path f = write(full);
        for (String cmd : new String[] {"check-config", "run"}) {
            Result r = cmd.equals("run") ? run(Map.of(), "--config", f.toString()) : run(Map.of(), cmd, "--config", f.toString());
            assertEquals(2, r.code(), name + " / " + cmd + ": " + r.err());
            assertTrue(r.err().contains(expected.replace("egress.yaml", f.toString())), name + ": " + r.err());
            assertFalse(r.err().contains("\tat "), "no stack trace: " + r.err());
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "server: 5                | server: 5\\n                                  | egress.yaml:1: server: got a number (expected: a mapping",
        "routes: a mapping        | tls: {}\\nroutes: {prefix: /v1}\\n             | egress.yaml:2: routes: got a mapping (expected: a list of routes",
        "auth: a string           | upstreams:\\n  z:\\n    url: https://z.example\\n    auth: \"Bearer x\"\\n | egress.yaml:4: upstreams.z.auth: got a string (expected: a mapping",
        "route retry: a number    | routes:\\n  - { prefix: /r, upstreams: [openai], retry: 3 }\\n | routes[1].retry: got a number (expected: a mapping",
        "dns hosts: a list        | dns: {hosts: [1]}\\n                          | egress.yaml:1: dns.hosts: got a list (expected: a mapping",
        "timeouts: a list         | timeouts: [1, 2]\\n                           | egress.yaml:1: timeouts: got a list (expected: a mapping",
        "limits: a list           | upstreams:\\n  z:\\n    url: https://z.example\\n    limits: [1]\\n | egress.yaml:4: upstreams.z.limits: got a list (expected: a mapping",
    })
    void wrongShapeExitsTwoWithKeyLineAndExpectedShape(String name, String bad, String expected) throws Exception {
        invalidConfigExitsTwoWithKeyFileAndLineAndNoStackTrace(name, bad, expected);
    }

    @Test
    @Timeout(30)
    void agentPortInUseExitsTwoNamingTheAddressAndKey() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            String address = "127.0.0.1:" + taken.getLocalPort();
            Path f = write("server: { listen: \"" + address + "\", admin: 127.0.0.1:0 }\n" + VALID);
            Result r = run(Map.of(), "--config", f.toString());
            assertEquals(2, r.code(), r.err());
            assertTrue(r.err().contains("cannot listen on " + address + " (server.listen)"), r.err());
            assertTrue(r.err().contains("already in use"), r.err());
            assertFalse(r.err().contains("bind(..)"), r.err());
        }
    }

    @Test
    @Timeout(30)
    void adminPortInUseExitsTwoNamingTheAddressAndKey() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            String address = "127.0.0.1:" + taken.getLocalPort();
            Path f = write("server: { listen: 127.0.0.1:0, admin: \"" + address + "\" }\n" + VALID);
            Result r = run(Map.of(), "--config", f.toString());
            assertEquals(2, r.code(), r.err());
            assertTrue(r.err().contains("cannot listen on " + address + " (server.admin)"), r.err());
            assertTrue(r.err().contains("already in use"), r.err());
        }
    }

    @Test
    void theDocumentedExampleConfigIsValid() {
        Result r = run(Map.of(), "check-config", "--config", "../config/egress.example.yaml");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("5 upstreams, 4 routes"), r.out());
    }

    @Test
    void trainingRunServesItsRequestsOnLoopbackAndExitsZero() {
        // The environment's proxy must not matter: the training run's config ignores it (use_environment: false).
        Result r = run(Map.of("HTTP_PROXY", "http://127.0.0.1:9", "HTTPS_PROXY", "http://127.0.0.1:9"), "training-run");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("training run OK: 7 requests answered as expected"), r.out());
        assertEquals(2, run(Map.of(), "training-run", "--config", "x.yaml").code(), "training-run takes no config: a usage error");
    }

    @Test
    void missingConfigFileIsAConfigError() {
        Result r = run(Map.of(), "check-config", "--config", dir.resolve("nope.yaml").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("nope.yaml: config file not found"), r.err());
    }

    @Test
    void configComesFromTheEnvironmentVariableWhenNoFlag() throws Exception {
        Result r = run(Map.of("MODEL_EGRESS_CONFIG", write(VALID).toString()), "check-config");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains(dir.toString()), r.out());
        assertTrue(run(Map.of(), "check-config").out().contains("embedded default config"));
    }

    @Test
    void explainProxyPrintsTheContractJson() {
        Result r = run(Map.of("HTTPS_PROXY", "http://user:s3cret@proxy.corp:3128", "NO_PROXY", ".internal"),
                "explain-proxy", "--json", "https://api.openai.com/v1/chat/completions");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().startsWith("{\"url\":\"https://api.openai.com/v1/chat/completions\",\"proxy\":\"http://user:***@proxy.corp:3128\",\"reason\":"), r.out());
        assertFalse(r.out().contains("s3cret"));
        Result direct = run(Map.of("HTTPS_PROXY", "http://proxy.corp:3128", "NO_PROXY", ".internal"),
                "explain-proxy", "--json", "https://model.internal/v1");
        assertTrue(direct.out().contains("\"proxy\":null"), direct.out());
        assertTrue(direct.out().contains("NO_PROXY entry \\\".internal\\\""), direct.out());
    }

    @Test
    void explainProxyNeverEchoesASecretWhateverTheShape() {
        Result noHost = run(Map.of("HTTPS_PROXY", "http://u:PASS-1"), "explain-proxy", "https://api.openai.com/v1");
        assertFalse(noHost.out().contains("PASS") || noHost.err().contains("PASS"), noHost.out() + noHost.err());
        Result token = run(Map.of("HTTPS_PROXY", "http://TOKEN-2@proxy.corp:3128"), "explain-proxy", "https://api.openai.com/v1");
        assertTrue(token.out().contains("via http://***@proxy.corp:3128"), token.out());
        assertFalse(token.out().contains("TOKEN"), token.out());
        Result target = run(Map.of(), "explain-proxy", "https://u:PASS-3@api.openai.com/v1");
        assertFalse(target.out().contains("PASS") || target.err().contains("PASS"), target.out() + target.err());
        Result badTarget = run(Map.of(), "explain-proxy", "ftp://u:PASS-4@api.openai.com");
        assertEquals(2, badTarget.code());
        assertFalse(badTarget.err().contains("PASS"), badTarget.err());
    }

    @Test
    void versionAndHelpExitZero() {
        assertEquals(0, run(Map.of(), "--version").code());
        Result help = run(Map.of(), "--help");
        assertEquals(0, help.code());
        assertTrue(help.out().contains("check-config"));
        assertEquals(2, run(Map.of(), "frobnicate").code());
    }
}
