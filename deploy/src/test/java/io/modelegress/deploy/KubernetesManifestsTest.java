package io.modelegress.deploy;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HTTPGetAction;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.KubernetesResource;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.SecurityContext;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

/** deploy/k8s: every manifest parses as Kubernetes objects, and the pod, the sidecar's config and the Secret agree. */
class KubernetesManifestsTest {
    private static BaseManifests base;
    private static SidecarConfig config;

    @BeforeAll
    static void load() {
        base = BaseManifests.load();
        config = base.sidecarConfig();
    }

    static Stream<Path> manifestFiles() {
        return DeployFiles.k8sYamlFiles().stream().filter(p -> !DeployFiles.isKustomization(p));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("manifestFiles")
    void everyManifestIsTypedKubernetesWithNoUnknownField(Path file) {
        List<KubernetesResource> docs = DeployFiles.readObjects(file);
        assertFalse(docs.isEmpty(), file + " holds no object");
        for (KubernetesResource r : docs) {
            assertFalse(r instanceof GenericKubernetesResource, file + ": kind/apiVersion unknown to the Kubernetes model: " + r);
            HasMetadata h = (HasMetadata) r;
            assertNotNull(h.getMetadata(), file + ": no metadata");
            assertNotNull(h.getMetadata().getName(), file + ": no metadata.name");
            assertEquals(List.of(), UnknownFields.in(r), file + ": fields the Kubernetes model does not know (typos?)");
        }
    }

    @Test
    void everyKustomizationNamesExistingFilesAndEveryManifestIsInOne() {
        Set<Path> referenced = new HashSet<>();
        List<Path> kustomizations = DeployFiles.k8sYamlFiles().stream().filter(DeployFiles::isKustomization).toList();
        assertTrue(kustomizations.size() >= 1, "no kustomization.yaml under deploy/k8s");
        for (Path k : kustomizations) {
            Map<String, Object> doc = DeployFiles.readYamlMap(k);
            assertEquals("Kustomization", doc.get("kind"), k.toString());
            List<String> entries = new ArrayList<>();
            for (Object o : list(doc.get("resources"))) entries.add((String) o);
            for (Object o : list(doc.get("patches"))) entries.add((String) ((Map<?, ?>) o).get("path"));
            for (String entry : entries) {
                Path p = k.getParent().resolve(entry).normalize();
                assertTrue(Files.exists(p), k + " names " + entry + ", which does not exist");
                if (Files.isDirectory(p)) {
                    assertTrue(Files.exists(p.resolve("kustomization.yaml")), k + " names directory " + entry + " without a kustomization.yaml");
                }
                referenced.add(p);
            }
        }
        manifestFiles().forEach(f -> assertTrue(referenced.contains(f.normalize()),
                f + " is in no kustomization.yaml: kustomize would never apply it"));
    }

    @Test
    void sidecarIsANativeSidecarAndNotAnAppContainer() {
        Container sidecar = base.sidecar();
        assertEquals("Always", sidecar.getRestartPolicy(),
                "the sidecar must be an initContainer with restartPolicy Always, so it starts before the agent and stops after it");
        assertTrue(base.pod().getContainers().stream().noneMatch(c -> c.getName().equals(BaseManifests.SIDECAR)),
                "the sidecar is also listed in containers");
        assertEquals(Set.of(BaseManifests.AGENT), Set.copyOf(base.pod().getContainers().stream().map(Container::getName).toList()));
    }

    @Test
    void sidecarContainerPortsAreTheConfiguredListenAndAdminPorts() {
        Set<Integer> declared = new HashSet<>();
        for (ContainerPort p : base.sidecar().getPorts()) declared.add(p.getContainerPort());
        assertEquals(Set.of(config.listen().port(), config.admin().port()), declared);
    }

    @Test
    void agentPortIsLoopbackAndAdminPortIsReachableFromOutsideThePod() {
        assertTrue(config.listen().isLoopback(), "server.listen " + config.listen() + ": agent traffic must stay inside the pod");
        assertTrue(config.admin().isWildcard(), "server.admin " + config.admin() + ": kubelet probes and Prometheus connect to the pod IP");
    }

    @ParameterizedTest(name = "{0} probe asks {1}")
    @CsvSource({"liveness, /healthz", "readiness, /readyz", "startup, /readyz"})
    void probesAskTheAdminPort(String kind, String path) {
        Container sidecar = base.sidecar();
        Probe probe = switch (kind) {
            case "liveness" -> sidecar.getLivenessProbe();
            case "readiness" -> sidecar.getReadinessProbe();
            default -> sidecar.getStartupProbe();
        };
        assertNotNull(probe, "the sidecar has no " + kind + " probe");
        HTTPGetAction get = probe.getHttpGet();
        assertNotNull(get, kind + " probe must be an httpGet");
        assertEquals(path, get.getPath());
        assertEquals(config.admin().port(), resolvePort(sidecar, get.getPort()), kind + " probe port");
        assertTrue(get.getScheme() == null || get.getScheme().equals("HTTP"), "the admin port speaks plain HTTP");
    }

    @Test
    void configMapIsMountedWhereModelEgressConfigPoints() {
        String configPath = BaseManifests.env(base.sidecar(), BaseManifests.CONFIG_ENV).orElseThrow();
        String name = base.configMap().getMetadata().getName();
        VolumeMount mount = base.sidecarMount(v -> v.getConfigMap() != null && name.equals(v.getConfigMap().getName()), "ConfigMap " + name);
        assertEquals(Path.of(configPath).getParent().toString(), mount.getMountPath());
        assertEquals(null, mount.getSubPath(), "a subPath mount never sees ConfigMap updates");
    }

    @Test
    void credentialFilesAreKeysOfTheMountedSecret() {
        String name = base.secret().getMetadata().getName();
        VolumeMount mount = base.sidecarMount(v -> v.getSecret() != null && name.equals(v.getSecret().getSecretName()), "Secret " + name);
        Set<String> keys = new HashSet<>();
        if (base.secret().getStringData() != null) keys.addAll(base.secret().getStringData().keySet());
        if (base.secret().getData() != null) keys.addAll(base.secret().getData().keySet());
        Map<String, String> files = config.credentialFiles();
        assertEquals(config.upstreamNames(), files.keySet(), "every upstream takes its credential from the Secret");
        assertAll(files.entrySet().stream().map(e -> () -> {
            Path file = Path.of(e.getValue());
            assertEquals(mount.getMountPath(), file.getParent().toString(), "upstreams." + e.getKey() + ".auth.value_file");
            assertTrue(keys.contains(file.getFileName().toString()),
                    "Secret " + name + " has no key " + file.getFileName() + " for upstreams." + e.getKey());
        }));
        var items = base.volume(mount.getName()).getSecret().getItems();
        assertTrue(items == null || items.isEmpty(), "items would hide keys the config does not list there: " + items);
    }

    @ParameterizedTest(name = "{0} routes to a {1} route")
    @CsvSource({"OPENAI_BASE_URL, openai", "ANTHROPIC_BASE_URL, anthropic"})
    void agentBaseUrlsPointAtTheListenPortAndARouteOfTheirDialect(String variable, String dialect) {
        String value = BaseManifests.env(base.agent(), variable).orElseThrow(() -> new AssertionError("agent sets no " + variable));
        URI url = URI.create(value);
        assertEquals("http", url.getScheme(), variable);
        assertTrue(SidecarConfig.HostPort.parse(url.getHost() + ":0").isLoopback(), variable + " must name the loopback address");
        assertEquals(config.listen().port(), url.getPort(), variable + " port");
        SidecarConfig.Route route = config.routes().stream()
                .filter(r -> url.getPath().equals(r.prefix()) || url.getPath().startsWith(r.prefix() + "/"))
                .findFirst().orElseThrow(() -> new AssertionError(variable + "=" + value + " matches no route prefix of " + config.routes()));
        assertEquals(dialect, route.dialect(), "route " + route.name() + " answers errors in the wrong dialect for " + variable);
        String keyVariable = variable.replace("BASE_URL", "API_KEY");
        assertTrue(BaseManifests.env(base.agent(), keyVariable).isPresent(), "the SDK refuses to start without " + keyVariable);
    }

    @Test
    void gracePeriodOutlastsShutdownDelayPlusDrain() {
        long grace = base.pod().getTerminationGracePeriodSeconds();
        long needed = config.shutdownDelay().plus(config.drainTimeout()).toSeconds();
        assertTrue(grace > needed, "terminationGracePeriodSeconds " + grace + " must exceed server.shutdown_delay + server.drain_timeout = " + needed + "s");
    }

    @Test
    void scrapeAnnotationsNameTheAdminPortAndMetricsPath() {
        Map<String, String> a = base.deployment().getSpec().getTemplate().getMetadata().getAnnotations();
        assertNotNull(a, "the pod template has no annotations");
        assertEquals("true", a.get("prometheus.io/scrape"));
        assertEquals(String.valueOf(config.admin().port()), a.get("prometheus.io/port"));
        assertEquals("/metrics", a.get("prometheus.io/path"));
    }

    @Test
    void sidecarRunsLockedDownAsTheImageUser() {
        SecurityContext sc = base.sidecar().getSecurityContext();
        assertNotNull(sc, "the sidecar has no securityContext");
        assertEquals(Boolean.TRUE, sc.getRunAsNonRoot());
        assertEquals(Boolean.TRUE, sc.getReadOnlyRootFilesystem());
        assertEquals(Boolean.FALSE, sc.getAllowPrivilegeEscalation());
        assertEquals(List.of("ALL"), sc.getCapabilities().getDrop());
        assertEquals(Dockerfile.read().userId(), sc.getRunAsUser(), "runAsUser vs the Dockerfile's USER");
        // With a read-only root, Netty unpacks its native transport into a writable /tmp or falls back to NIO.
        assertTrue(base.sidecar().getVolumeMounts().stream().anyMatch(m -> m.getMountPath().equals("/tmp")
                && base.volume(m.getName()).getEmptyDir() != null), "no emptyDir at /tmp for the sidecar");
    }

    @Test
    void sidecarHasResourceRequestsAndAMemoryLimit() {
        var r = base.sidecar().getResources();
        assertNotNull(r.getRequests().get("cpu"), "cpu request");
        assertNotNull(r.getRequests().get("memory"), "memory request");
        assertNotNull(r.getLimits().get("memory"), "memory limit: the JVM sizes its heap from it");
    }

    @Test
    void deploymentSelectorMatchesItsPodLabels() {
        Deployment d = base.deployment();
        Map<String, String> labels = d.getSpec().getTemplate().getMetadata().getLabels();
        d.getSpec().getSelector().getMatchLabels().forEach((k, v) -> assertEquals(v, labels.get(k), "selector label " + k));
    }

    @Test
    void corporateProxyOverlayPatchesTheSidecarWithProxyAndNoProxy() {
        Path patch = DeployFiles.k8sDir().resolve("overlays/corporate-proxy/sidecar-proxy-env.yaml");
        Deployment d = (Deployment) DeployFiles.readObjects(patch).get(0);
        assertEquals(base.deployment().getMetadata().getName(), d.getMetadata().getName(), "the patch must target the base Deployment");
        Container sidecar = d.getSpec().getTemplate().getSpec().getInitContainers().stream()
                .filter(c -> c.getName().equals(BaseManifests.SIDECAR)).findFirst()
                .orElseThrow(() -> new AssertionError("the patch does not name the sidecar initContainer " + BaseManifests.SIDECAR));
        assertTrue(BaseManifests.env(sidecar, "HTTPS_PROXY").isPresent(), "HTTPS_PROXY");
        Set<String> noProxy = Set.of(BaseManifests.env(sidecar, "NO_PROXY").orElseThrow().split(","));
        for (String required : List.of(".svc", ".cluster.local", "127.0.0.1", "localhost")) {
            assertTrue(noProxy.contains(required), "NO_PROXY lacks " + required + ": " + noProxy);
        }
    }

    private static int resolvePort(Container c, IntOrString port) {
        if (port.getIntVal() != null) return port.getIntVal();
        return c.getPorts().stream().filter(p -> port.getStrVal().equals(p.getName())).findFirst()
                .map(ContainerPort::getContainerPort)
                .orElseThrow(() -> new AssertionError("no container port named " + port.getStrVal()));
    }

    private static List<?> list(Object o) {
        return o == null ? List.of() : (List<?>) o;
    }
}
