package io.modelegress.deploy;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.fabric8.kubernetes.api.model.KubernetesResource;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/** Where the files under test are, and how to read them. Paths come from the module's basedir, not the JVM's cwd. */
final class DeployFiles {
    static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    static final ObjectMapper JSON = new ObjectMapper();

    private DeployFiles() {}

    /** deploy/: the surefire property set to ${project.basedir}, else the working directory (an IDE run). */
    static Path deployDir() {
        String prop = System.getProperty("deploy.dir");
        Path dir = (prop != null ? Path.of(prop) : Path.of("")).toAbsolutePath().normalize();
        assertTrue(Files.isRegularFile(dir.resolve("Dockerfile")), "expected deploy/ (with a Dockerfile) at " + dir);
        return dir;
    }

    static Path repoRoot() { return deployDir().getParent(); }

    static Path k8sDir() { return deployDir().resolve("k8s"); }

    static Path referenceConf() {
        return repoRoot().resolve("proxy-core/src/main/resources/io/modelegress/core/config/reference.conf");
    }

    /** Every YAML file under deploy/k8s, sorted, so a new file is checked without a test change. */
    static List<Path> k8sYamlFiles() {
        try (Stream<Path> s = Files.walk(k8sDir())) {
            return s.filter(Files::isRegularFile)
                    .filter(p -> p.toString().endsWith(".yaml") || p.toString().endsWith(".yml"))
                    .sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static boolean isKustomization(Path p) {
        String name = p.getFileName().toString();
        return name.equals("kustomization.yaml") || name.equals("kustomization.yml");
    }

    /** Each YAML document of a manifest file, typed by fabric8 from its apiVersion and kind. */
    static List<KubernetesResource> readObjects(Path file) {
        List<KubernetesResource> out = new ArrayList<>();
        try (var it = YAML.readerFor(KubernetesResource.class).<KubernetesResource>readValues(file.toFile())) {
            while (it.hasNext()) {
                KubernetesResource r = it.next();
                if (r != null) out.add(r);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot parse " + file, e);
        }
        return out;
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> readYamlMap(Path file) {
        try {
            return YAML.readValue(file.toFile(), Map.class);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot parse " + file, e);
        }
    }

    static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
