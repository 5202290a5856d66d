package io.modelegress.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.Network;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.images.builder.ImageFromDockerfile;
import org.testcontainers.images.builder.Transferable;
import org.testcontainers.junit.jupiter.Testcontainers;
import org.testcontainers.utility.DockerImageName;

/**
 * Builds deploy/Dockerfile and runs the image beside a Squid and a mock OpenAI upstream on one Docker network, with
 * the ConfigMap's own config and a credential file where the Secret would be. Needs a Docker engine: without one
 * JUnit reports it skipped ("Docker is not available").
 */
@Testcontainers(disabledWithoutDocker = true)
@Timeout(value = 20, unit = TimeUnit.MINUTES)   // the first image build downloads Maven's dependencies
class SidecarImageTest {
    private static final String SQUID_CONF = String.join("\n",
            "http_port 3128",
            "http_access allow all",        // a throw-away network: only this test's containers are on it
            "cache deny all",
            "");

    /** Answers any POST like OpenAI's chat completions, reporting what it received. */
    private static final String MOCK_UPSTREAM = String.join("\n",
            "import http.server, json",
            "class H(http.server.BaseHTTPRequestHandler):",
            "    def do_GET(self):",
            "        self.reply({'status': 'ok'})",
            "    def do_POST(self):",
            "        self.rfile.read(int(self.headers.get('content-length', 0)))",
            "        self.reply({'id': 'chatcmpl-mock', 'object': 'chat.completion', 'model': 'mock',",
            "                    'choices': [{'index': 0, 'finish_reason': 'stop',",
            "                                 'message': {'role': 'assistant', 'content': 'hello from mock'}}],",
            "                    'usage': {'prompt_tokens': 1, 'completion_tokens': 3, 'total_tokens': 4},",
            "                    'seen': {'path': self.path, 'authorization': self.headers.get('authorization'),",
            "                             'via': self.headers.get('via')}})",
            "    def reply(self, obj):",
            "        body = json.dumps(obj).encode()",
            "        self.send_response(200)",
            "        self.send_header('content-type', 'application/json')",
            "        self.send_header('content-length', str(len(body)))",
            "        self.end_headers()",
            "        self.wfile.write(body)",
            "http.server.ThreadingHTTPServer(('0.0.0.0', 8000), H).serve_forever()",
            "");

    @Test
    void chatRequestThroughTheSidecarImageReachesTheUpstreamViaTheProxy() throws Exception {
        BaseManifests base = BaseManifests.load();
        String credentialFile = base.sidecarConfig().credentialFiles().get("openai");

        try (Network network = Network.newNetwork();
             GenericContainer<?> upstream = new GenericContainer<>(DockerImageName.parse("python:3.12-alpine"))
                     .withNetwork(network).withNetworkAliases("mock-openai")
                     .withCopyToContainer(Transferable.of(MOCK_UPSTREAM), "/mock.py")
                     .withCommand("python", "-u", "/mock.py")
                     .withExposedPorts(8000)
                     .waitingFor(Wait.forHttp("/").forPort(8000));
             GenericContainer<?> squid = new GenericContainer<>(DockerImageName.parse("ubuntu/squid:6.6-24.04_edge"))
                     .withNetwork(network).withNetworkAliases("squid")
                     .withCopyToContainer(Transferable.of(SQUID_CONF), "/etc/squid/squid.conf")
                     .withExposedPorts(3128)
                     .waitingFor(Wait.forListeningPort());
             GenericContainer<?> sidecar = new GenericContainer<>(image())
                     .withNetwork(network)
                     .withEnv("HTTP_PROXY", "http://squid:3128")
                     .withCopyToContainer(Transferable.of(testConfig(base.sidecarConfigYaml())), "/etc/model-egress/egress.yaml")
                     .withCopyToContainer(Transferable.of("Bearer sk-from-secret-file\n"), credentialFile)
                     .withExposedPorts(8080, 9090)
                     .waitingFor(Wait.forHttp("/readyz").forPort(9090))) {
            upstream.start();
            squid.start();
            sidecar.start();

            HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
            HttpRequest request = HttpRequest.newBuilder(URI.create(
                            "http://" + sidecar.getHost() + ":" + sidecar.getMappedPort(8080) + "/v1/chat/completions"))
                    .timeout(Duration.ofSeconds(60))
                    .header("content-type", "application/json")
                    .header("authorization", "Bearer dummy")
                    .POST(HttpRequest.BodyPublishers.ofString(
                            "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"))
                    .build();
            HttpResponse<String> response = client.send(request, HttpResponse.BodyHandlers.ofString());

            assertEquals(200, response.statusCode(), response.body());
            JsonNode body = DeployFiles.JSON.readTree(response.body());
            assertEquals("hello from mock", body.at("/choices/0/message/content").asText());
            JsonNode seen = body.path("seen");
            assertEquals("/v1/chat/completions", seen.path("path").asText());
            assertEquals("Bearer sk-from-secret-file", seen.path("authorization").asText(), "the credential file replaces the agent's dummy key");
            assertTrue(seen.path("via").asText().contains("squid"), "the request did not pass through Squid: via=" + seen.path("via"));
        }
    }

    /** The image, built from exactly the paths the Dockerfile copies (not the whole repository with its target/). */
    private static ImageFromDockerfile image() {
        Path root = DeployFiles.repoRoot();
        ImageFromDockerfile image = new ImageFromDockerfile("model-egress-deploy-test", true)
                .withFileFromPath("Dockerfile", root.resolve("deploy/Dockerfile"));
        for (List<String> copy : Dockerfile.read().contextCopies()) {
            for (String source : copy.subList(0, copy.size() - 1)) image.withFileFromPath(source, root.resolve(source));
        }
        return image;
    }

    /** The ConfigMap's config, with the agent port published for the test and OpenAI replaced by the mock. */
    @SuppressWarnings("unchecked")
    private static String testConfig(String podConfigYaml) throws Exception {
        Map<String, Object> cfg = DeployFiles.YAML.readValue(podConfigYaml, Map.class);
        ((Map<String, Object>) cfg.get("server")).put("listen", "0.0.0.0:8080");
        ((Map<String, Object>) ((Map<String, Object>) cfg.get("upstreams")).get("openai")).put("url", "http://mock-openai:8000");
        return DeployFiles.YAML.writeValueAsString(cfg);
    }
}
