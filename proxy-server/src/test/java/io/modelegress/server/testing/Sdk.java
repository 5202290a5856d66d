package io.modelegress.server.testing;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import java.time.Duration;

/** The official OpenAI Java SDK pointed at a sidecar, as an agent configures it: base_url, a dummy key. */
public final class Sdk {
    private Sdk() {}

    /** No SDK retries (the sidecar's retries are under test) and a 20 s timeout that no test should reach. */
    public static OpenAIClient client(Sidecar sidecar) { return client(sidecar, Duration.ofSeconds(20)); }

    /** The SDK announces {@code timeout} to the sidecar (x-stainless-timeout) and gives up after it. */
    public static OpenAIClient client(Sidecar sidecar, Duration timeout) {
        return OpenAIOkHttpClient.builder().apiKey("dummy").baseUrl(sidecar.url() + "/v1")
                .timeout(timeout).maxRetries(0).build();
    }
}
