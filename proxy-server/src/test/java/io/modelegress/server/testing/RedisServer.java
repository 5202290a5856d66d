package io.modelegress.server.testing;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.Assertions;

/**
 * A real redis-server (the Debian package) on 127.0.0.1, on a port picked at run time (Redis has no port 0), with
 * no persistence ({@code --save "" --appendonly no}) and its own directory. It can be stopped and started again on
 * the same port, as an outage would. Without redis-server the calling test is skipped, unless
 * {@code EGRESS_REQUIRE_REDIS=1} (CI), where it fails.
 */
public final class RedisServer implements AutoCloseable {
    private static final String INSTALL = "apt-get install -y redis-server";
    private static final Duration START_LIMIT = Duration.ofSeconds(20);

    private final Path binary;
    private final Path dir;
    private final int port;
    private Process process;

    private RedisServer(Path binary, Path dir, int port) {
        this.binary = binary;
        this.dir = dir;
        this.port = port;
    }

    public static RedisServer start() throws IOException {
        Path binary = require(find());
        Path dir = Files.createTempDirectory("redis-test");
        IOException last = null;
        for (int tries = 0; tries < 3; tries++) {
            RedisServer r = new RedisServer(binary, dir, LoopbackPorts.free());
            try {
                r.startAgain();
                return r;
            } catch (IOException e) {
                last = e;
                // A port taken between our probe and Redis's bind is the one failure worth another try.
                if (!String.valueOf(e.getMessage()).contains("Address already in use")) break;
            }
        }
        throw last;
    }

    public int port() { return port; }

    public String url() { return "redis://127.0.0.1:" + port; }

    public boolean isRunning() { return process != null && process.isAlive(); }

    /** Starts (again, after {@link #stop}) on the same port; returns once it accepts connections. */
    public void startAgain() throws IOException {
        if (isRunning()) return;
        Path log = dir.resolve("redis.out");
        process = new ProcessBuilder(binary.toString(), "--port", Integer.toString(port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--dir", dir.toString(), "--protected-mode", "yes")
                .directory(dir.toFile()).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            Awaitility.await().atMost(START_LIMIT).pollInterval(Duration.ofMillis(20))
                    .until(() -> !process.isAlive() || LoopbackPorts.accepts(port));
        } catch (ConditionTimeoutException e) {
            stop();
            throw new IOException("redis-server did not accept connections on 127.0.0.1:" + port + "\n" + Files.readString(log));
        }
        if (!process.isAlive()) throw new IOException("redis-server exited: " + Files.readString(log));
    }

    /** Stops the process (SIGSTOP): its connections stay open and nothing answers, as a Redis stuck on a slow command. */
    public void freeze() throws IOException, InterruptedException { signal("-STOP"); }

    /** Lets a {@link #freeze frozen} server go on (SIGCONT): it answers what it was sent meanwhile. */
    public void thaw() throws IOException, InterruptedException { signal("-CONT"); }

    private void signal(String which) throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", which, Long.toString(process.pid())).inheritIO().start();
        if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) throw new IOException("kill " + which + " failed");
    }

    /** Kills the server (SIGKILL: an outage, not a shutdown); its data is gone. */
    public void stop() {
        if (process == null) return;
        process.destroyForcibly();
        try {
            process.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        stop();
        try (var files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // A temp dir left behind is harmless.
        }
    }

    private static Path require(Path found) {
        if (found != null) return found;
        String message = "redis-server not installed: " + INSTALL;
        if ("1".equals(System.getenv("EGRESS_REQUIRE_REDIS"))) Assertions.fail(message + " (EGRESS_REQUIRE_REDIS=1)");
        org.junit.jupiter.api.Assumptions.abort(message);
        return null;
    }

    private static Path find() {
        for (String d : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
            if (d.isEmpty()) continue;
            Path p = Path.of(d, "redis-server");
            if (Files.isRegularFile(p) && Files.isExecutable(p)) return p;
        }
        Path p = Path.of("/usr/bin/redis-server");
        return Files.isExecutable(p) ? p : null;
    }


}
