package io.modelegress.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** deploy/Dockerfile against the repository it builds and the configs it runs with. */
class DockerfileTest {
    private final Dockerfile dockerfile = Dockerfile.read();
    private final SidecarConfig imageConfig = SidecarConfig.parse(DeployFiles.read(DeployFiles.deployDir().resolve("egress.yaml")));

    @Test
    void buildsWithMavenOnJdk17AndRunsOnAJre17() {
        assertEquals("maven:3.9-eclipse-temurin-17", dockerfile.baseImage(0));
        assertEquals("eclipse-temurin:17-jre", dockerfile.baseImage(dockerfile.lastStage()));
    }

    @Test
    void runsAsANumericNonRootUser() {
        Long uid = dockerfile.userId();
        assertNotNull(uid, "the runtime stage needs a numeric USER (the kubelet cannot check a name against runAsNonRoot)");
        assertTrue(uid > 0, "USER " + uid + " is root");
    }

    @Test
    void healthcheckAsksAdminHealthzWithoutCurlOrWget() {
        String hc = dockerfile.healthcheck().orElseThrow(() -> new AssertionError("no HEALTHCHECK in the runtime stage"));
        assertTrue(hc.contains("/healthz"), hc);
        Matcher port = Pattern.compile("/dev/tcp/[^/\\s]+/(\\d+)|:(\\d+)/healthz").matcher(hc);
        assertTrue(port.find(), "no port in HEALTHCHECK: " + hc);
        int asked = Integer.parseInt(port.group(1) != null ? port.group(1) : port.group(2));
        assertEquals(imageConfig.admin().port(), asked, "HEALTHCHECK port vs server.admin of deploy/egress.yaml");
        assertFalse(hc.contains("curl") || hc.contains("wget"), "eclipse-temurin JRE images do not all ship curl or wget");
    }

    @Test
    void exposesTheListenAndAdminPortsOfTheImageAndPodConfigs() {
        SidecarConfig podConfig = BaseManifests.load().sidecarConfig();
        Set<Integer> exposed = dockerfile.exposedPorts();
        assertEquals(Set.of(imageConfig.listen().port(), imageConfig.admin().port()), exposed, "EXPOSE vs deploy/egress.yaml");
        assertEquals(Set.of(podConfig.listen().port(), podConfig.admin().port()), exposed, "EXPOSE vs the ConfigMap's egress.yaml");
    }

    @Test
    void imageConfigKeepsAgentTrafficAndTheAdminPortOnLoopbackWhereItsHealthcheckAsks() {
        // The image's config serves docker run and Compose; in a pod the ConfigMap replaces it (and opens the admin
        // port to the pod IP for the kubelet). There the only probe is the HEALTHCHECK, inside the container.
        assertTrue(imageConfig.listen().isLoopback(), "server.listen " + imageConfig.listen());
        assertTrue(imageConfig.admin().isLoopback(), "server.admin " + imageConfig.admin()
                + ": /config and /debug/* must not face the network by default");
        String hc = dockerfile.healthcheck().orElseThrow();
        Matcher host = Pattern.compile("/dev/tcp/([^/\\s]+)/").matcher(hc);
        assertTrue(host.find(), "no host in HEALTHCHECK: " + hc);
        assertEquals(imageConfig.admin().host(), host.group(1), "HEALTHCHECK host vs server.admin of deploy/egress.yaml");
    }

    @Test
    void modelEgressConfigNamesTheCopiedConfigAndThePodAgrees() {
        String configPath = dockerfile.env("MODEL_EGRESS_CONFIG").orElseThrow(() -> new AssertionError("no ENV MODEL_EGRESS_CONFIG"));
        assertTrue(dockerfile.contextCopies().stream().anyMatch(c -> c.get(0).equals("deploy/egress.yaml") && c.get(c.size() - 1).equals(configPath)),
                "deploy/egress.yaml is not copied to " + configPath);
        BaseManifests base = BaseManifests.load();
        assertEquals(configPath, BaseManifests.env(base.sidecar(), BaseManifests.CONFIG_ENV).orElseThrow(), "the pod's " + BaseManifests.CONFIG_ENV);
    }

    @Test
    void copiesEveryModulePomOfTheRootReactorAndOnlyExistingPaths() {
        String rootPom = DeployFiles.read(DeployFiles.repoRoot().resolve("pom.xml"));
        List<String> sources = new ArrayList<>();
        for (List<String> copy : dockerfile.contextCopies()) sources.addAll(copy.subList(0, copy.size() - 1));
        for (String source : sources) {
            assertTrue(Files.exists(DeployFiles.repoRoot().resolve(source)), "COPY source " + source + " does not exist in the repository");
        }
        Matcher module = Pattern.compile("<module>([^<]+)</module>").matcher(rootPom);
        // deploy/pom.xml is copied too: once the root pom names the deploy module, Maven needs it to read the reactor.
        List<String> modules = new ArrayList<>(List.of("deploy"));
        while (module.find()) modules.add(module.group(1).strip());
        for (String m : modules) {
            assertTrue(sources.contains(m + "/pom.xml"), "the build stage does not COPY " + m + "/pom.xml: Maven cannot read the reactor without it");
        }
    }

    @Test
    void copiesTheShadedJarTheServerModuleBuilds() {
        String serverPom = DeployFiles.read(DeployFiles.repoRoot().resolve("proxy-server/pom.xml"));
        Matcher finalName = Pattern.compile("<finalName>([^<]+)</finalName>").matcher(serverPom);
        assertTrue(finalName.find(), "proxy-server/pom.xml names no shaded finalName");
        String jar = "/src/proxy-server/target/" + finalName.group(1) + ".jar";
        assertTrue(dockerfile.all("COPY").stream().anyMatch(i -> i.args().startsWith("--from=build " + jar + " ")),
                "the runtime stage does not copy " + jar);
        String entrypoint = dockerfile.runtime("ENTRYPOINT").get(0).args();
        assertTrue(entrypoint.contains("\"-jar\""), entrypoint);
    }

    @Test
    void jvmSizesItselfFromTheContainerLimit() {
        String opts = dockerfile.env("JAVA_TOOL_OPTIONS").orElseThrow(() -> new AssertionError("no ENV JAVA_TOOL_OPTIONS"));
        assertTrue(opts.contains("-XX:MaxRAMPercentage="), opts);
        assertTrue(opts.contains("-XX:+ExitOnOutOfMemoryError"), opts);
        assertFalse(opts.contains("-Xmx"), "a fixed -Xmx ignores the pod's memory limit: " + opts);
    }

    /**
     * Issue 20: freed malloc memory (the JIT's start-up scratch) goes back to the kernel, about 4 MiB of idle RSS;
     * and this JVM accepts every flag of the set (an unknown -XX option would stop the container at start).
     */
    @Test
    void jvmReturnsFreedNativeMemoryAndAcceptsEveryFlag() throws Exception {
        String opts = dockerfile.env("JAVA_TOOL_OPTIONS").orElseThrow(() -> new AssertionError("no ENV JAVA_TOOL_OPTIONS"));
        assertTrue(opts.contains("-XX:TrimNativeHeapInterval="), opts);
        List<String> cmd = new ArrayList<>(List.of(java.nio.file.Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        for (String flag : opts.trim().split("\\s+")) if (!flag.startsWith("-XX:SharedArchiveFile=")) cmd.add(flag); // built by the image
        cmd.add("-version");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, java.util.concurrent.TimeUnit.SECONDS), "java -version did not end");
        assertEquals(0, p.exitValue(), out);
    }

    @Test
    void parserDropsCommentsInsideContinuationsAndTagsStages() {
        Dockerfile d = Dockerfile.parse(String.join("\n",
                "FROM a AS build", "RUN one \\", "# a comment", "  two", "FROM b", "ENV X=\"1 2\" Y=3", "USER 10001:10001"));
        assertEquals("one  two", d.all("RUN").get(0).args());
        assertEquals(1, d.lastStage());
        assertEquals("1 2", d.env("X").orElseThrow());
        assertEquals("3", d.env("Y").orElseThrow());
        assertEquals(10001L, d.userId());
    }
}
