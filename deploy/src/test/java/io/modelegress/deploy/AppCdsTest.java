package io.modelegress.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The image's AppCDS steps, replayed here with the built jar (no Docker engine needed): the Dockerfile's training
 * RUN writes an archive at the path its JAVA_TOOL_OPTIONS names, and a JVM started with those options and
 * {@code -Xshare:on} (which refuses to start on an archive it cannot map) runs the sidecar with it.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class AppCdsTest {
    private static final Path JAR = DeployFiles.repoRoot().resolve("proxy-server/target/model-egress.jar");
    private static final String IMAGE_DIR = "/opt/model-egress/";

    @TempDir
    Path tmp;

    private final Dockerfile dockerfile = Dockerfile.read();

    @Test
    void theTrainingRunWritesTheArchiveTheRuntimeFlagsNameAndTheSidecarStartsOnIt() throws Exception {
        assumeTrue(Files.isRegularFile(JAR), JAR + " is not built (mvn package builds it before this module)");
        List<String> training = trainingRun();
        String archive = flag(training, "-XX:ArchiveClassesAtExit=");
        String opts = dockerfile.env("JAVA_TOOL_OPTIONS").orElseThrow(() -> new AssertionError("no ENV JAVA_TOOL_OPTIONS"));
        assertEquals(archive, flag(Arrays.asList(opts.split("\\s+")), "-XX:SharedArchiveFile="),
                "JAVA_TOOL_OPTIONS must name the archive the training run writes");

        // The image's layout under a temporary directory: the jar where the image puts it.
        Path dir = Files.createDirectories(tmp.resolve("opt/model-egress"));
        Files.copy(JAR, dir.resolve("model-egress.jar"));
        Run built = java(local(training), "");
        assertEquals(0, built.exit, "training run failed:\n" + built.output);
        assertTrue(built.output.contains("training run OK"), built.output);
        Path jsa = Path.of(local(archive));
        assertTrue(Files.size(jsa) > 1_000_000, "archive " + jsa + " is " + Files.size(jsa) + " bytes");

        List<String> again = new ArrayList<>(List.of("java", "-Xshare:on", "-jar", local(IMAGE_DIR + "model-egress.jar"), "training-run"));
        Run onArchive = java(again, local(opts));
        assertEquals(0, onArchive.exit, "the sidecar did not run on the archive (-Xshare:on):\n" + onArchive.output);
        assertTrue(onArchive.output.contains("training run OK"), onArchive.output);
    }

    /** The runtime stage's RUN that performs the training run, as arguments. */
    private List<String> trainingRun() {
        List<String> runs = dockerfile.runtime("RUN").stream().map(Dockerfile.Instruction::args)
                .filter(a -> a.contains(" training-run")).toList();
        assertEquals(1, runs.size(), "the runtime stage needs one RUN with the training run: " + runs);
        List<String> args = Arrays.asList(runs.get(0).trim().split("\\s+"));
        assertEquals("java", args.get(0), runs.get(0));
        assertEquals("training-run", args.get(args.size() - 1), runs.get(0));
        return args;
    }

    private static String flag(List<String> args, String prefix) {
        return args.stream().filter(a -> a.startsWith(prefix)).map(a -> a.substring(prefix.length())).findFirst()
                .orElseThrow(() -> new AssertionError("no " + prefix + " in " + args));
    }

    private String local(String text) {
        return text.replace(IMAGE_DIR, tmp.resolve("opt/model-egress") + "/");
    }

    private List<String> local(List<String> args) {
        return args.stream().map(this::local).toList();
    }

    private record Run(int exit, String output) {}

    private Run java(List<String> args, String javaToolOptions) throws Exception {
        List<String> cmd = new ArrayList<>(args);
        cmd.set(0, Path.of(System.getProperty("java.home"), "bin", "java").toString());
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().remove("JAVA_TOOL_OPTIONS");
        if (!javaToolOptions.isEmpty()) pb.environment().put("JAVA_TOOL_OPTIONS", javaToolOptions);
        pb.environment().put("MODEL_EGRESS_ACCESS_LOG", "OFF");
        Process p = pb.start();
        p.getOutputStream().close();
        byte[] out = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "java did not finish: " + cmd);
        return new Run(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }
}
