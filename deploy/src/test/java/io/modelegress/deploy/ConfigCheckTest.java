package io.modelegress.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shipped configs pass the server's own validation (`model-egress check-config`), which knows every key. Needs
 * the built jar: in a full `mvn package` the server module is packaged before this one; with `-pl deploy` alone,
 * or before the first package, these are skipped.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class ConfigCheckTest {
    private static final Path JAR = DeployFiles.repoRoot().resolve("proxy-server/target/model-egress.jar");

    @TempDir
    Path tmp;

    @Test
    void configMapConfigPassesCheckConfig() throws Exception {
        assertEquals(0, checkConfig(BaseManifests.load().sidecarConfigYaml()).exit, "the ConfigMap's egress.yaml");
    }

    @Test
    void imageConfigPassesCheckConfig() throws Exception {
        assertEquals(0, checkConfig(DeployFiles.read(DeployFiles.deployDir().resolve("egress.yaml"))).exit, "deploy/egress.yaml");
    }

    @Test
    void aMisspeltKeyFailsCheckConfig() throws Exception {
        Result r = checkConfig(BaseManifests.load().sidecarConfigYaml().replace("drain_timeout:", "drain_timout:"));
        assertEquals(2, r.exit, "check-config should reject an unknown key; output:\n" + r.output);
        assertTrue(r.output.contains("drain_timout"), r.output);
    }

    private record Result(int exit, String output) {}

    private Result checkConfig(String yaml) throws Exception {
        assumeTrue(Files.isRegularFile(JAR), JAR + " is not built (mvn package builds it before this module): config not validated");
        Path file = Files.createTempFile(tmp, "egress", ".yaml");
        Files.writeString(file, yaml);
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "-jar", JAR.toString(), "check-config", "--config", file.toString())
                .redirectErrorStream(true).start();
        p.getOutputStream().close();
        byte[] out = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "check-config did not finish");
        return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }
}
