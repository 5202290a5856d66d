package io.modelegress.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.KubernetesResource;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** The objects of deploy/k8s/base, and the few look-ups the checks share. */
record BaseManifests(Deployment deployment, ConfigMap configMap, Secret secret) {
    static final String SIDECAR = "model-egress";
    static final String AGENT = "agent";
    static final String CONFIG_ENV = "MODEL_EGRESS_CONFIG";

    static BaseManifests load() {
        List<HasMetadata> all = new ArrayList<>();
        for (Path f : DeployFiles.k8sYamlFiles()) {
            if (!f.startsWith(DeployFiles.k8sDir().resolve("base")) || DeployFiles.isKustomization(f)) continue;
            for (KubernetesResource r : DeployFiles.readObjects(f)) all.add((HasMetadata) r);
        }
        return new BaseManifests(only(all, Deployment.class), only(all, ConfigMap.class), only(all, Secret.class));
    }

    private static <T> T only(List<HasMetadata> all, Class<T> type) {
        List<T> found = all.stream().filter(type::isInstance).map(type::cast).toList();
        assertEquals(1, found.size(), "expected exactly one " + type.getSimpleName() + " in deploy/k8s/base");
        return found.get(0);
    }

    PodSpec pod() { return deployment.getSpec().getTemplate().getSpec(); }

    Optional<Container> initContainer(String name) {
        return pod().getInitContainers().stream().filter(c -> c.getName().equals(name)).findFirst();
    }

    Container sidecar() {
        return initContainer(SIDECAR).orElseThrow(() -> new AssertionError("no initContainer named " + SIDECAR));
    }

    Container agent() {
        return pod().getContainers().stream().filter(c -> c.getName().equals(AGENT)).findFirst()
                .orElseThrow(() -> new AssertionError("no container named " + AGENT));
    }

    static Optional<String> env(Container c, String name) {
        return c.getEnv().stream().filter(e -> e.getName().equals(name)).map(e -> e.getValue()).findFirst();
    }

    Volume volume(String name) {
        return pod().getVolumes().stream().filter(v -> v.getName().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no volume named " + name + " in the pod"));
    }

    /** The sidecar's mount whose volume satisfies the test, e.g. the one backed by the config ConfigMap. */
    VolumeMount sidecarMount(java.util.function.Predicate<Volume> backedBy, String what) {
        return sidecar().getVolumeMounts().stream().filter(m -> backedBy.test(volume(m.getName()))).findFirst()
                .orElseThrow(() -> new AssertionError("the sidecar mounts no volume backed by " + what));
    }

    /** The config text the sidecar reads: the ConfigMap key named by MODEL_EGRESS_CONFIG's file name. */
    String sidecarConfigYaml() {
        String path = env(sidecar(), CONFIG_ENV).orElseThrow(() -> new AssertionError("sidecar sets no " + CONFIG_ENV));
        String key = Path.of(path).getFileName().toString();
        String yaml = configMap.getData().get(key);
        assertNotNull(yaml, "ConfigMap " + configMap.getMetadata().getName() + " has no key " + key + " (from " + CONFIG_ENV + "=" + path + ")");
        return yaml;
    }

    SidecarConfig sidecarConfig() { return SidecarConfig.parse(sidecarConfigYaml()); }
}
