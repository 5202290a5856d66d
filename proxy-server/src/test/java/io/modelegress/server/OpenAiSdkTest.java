package io.modelegress.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.openai.client.OpenAIClient;
import com.openai.core.http.StreamResponse;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import io.modelegress.server.testing.Sdk;
import io.modelegress.server.testing.Sidecar;
import io.modelegress.server.testing.TestConfig;
import io.modelegress.server.testing.TestUpstream;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The official OpenAI Java SDK as the agent, base URL = the sidecar, dummy key. */
class OpenAiSdkTest {
    private TestUpstream upstream;
    private Sidecar sidecar;
    private OpenAIClient client;

    @BeforeEach
    void setUp() throws Exception {
        upstream = new TestUpstream();
        sidecar = TestConfig.config()
                .upstream("openai", upstream.url(), u -> u.auth("Authorization", "Bearer ${OPENAI_API_KEY}"))
                .route("openai", "/v1", "openai")
                .start(Map.of("OPENAI_API_KEY", "sk-real"));
        client = Sdk.client(sidecar);
    }

    @AfterEach
    void tearDown() {
        client.close();
        sidecar.close();
        upstream.close();
    }

    private static ChatCompletionCreateParams params() {
        return ChatCompletionCreateParams.builder().model("gpt-4o-mini").addUserMessage("Say hello").build();
    }

    @Test
    void plainCompletionReachesTheUpstreamWithTheRealKey() throws Exception {
        upstream.script(TestUpstream.json(200, "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\",\"created\":1,"
                + "\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\","
                + "\"content\":\"Hello!\",\"refusal\":null},\"logprobs\":null,\"finish_reason\":\"stop\"}]}"));
        ChatCompletion c = client.chat().completions().create(params());
        assertEquals("Hello!", c.choices().get(0).message().content().orElseThrow());
        TestUpstream.Received r = upstream.take();
        assertEquals("/v1/chat/completions", r.uri());
        assertEquals("Bearer sk-real", r.header("authorization"));
        assertTrue(r.body().contains("\"Say hello\""));
    }

    @Test
    void streamIsRelayedChunkByChunkNotBuffered() throws Exception {
        CompletableFuture<Void> clientSawFirst = new CompletableFuture<>();
        upstream.script((ctx, req) -> {
            TestUpstream.sseHead(ctx);
            TestUpstream.event(ctx, "data: " + chunk("Hel") + "\n\n");
            // The second chunk leaves only once the agent has seen the first through the sidecar.
            clientSawFirst.thenRun(() -> ctx.executor().execute(() -> {
                TestUpstream.event(ctx, "data: " + chunk("lo") + "\n\n");
                TestUpstream.event(ctx, "data: [DONE]\n\n");
                ctx.writeAndFlush(io.netty.handler.codec.http.LastHttpContent.EMPTY_LAST_CONTENT);
            }));
        });
        List<String> parts = new ArrayList<>();
        try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions().createStreaming(params())) {
            Iterator<ChatCompletionChunk> it = stream.stream().iterator();
            parts.add(it.next().choices().get(0).delta().content().orElseThrow());
            clientSawFirst.complete(null);
            while (it.hasNext()) parts.add(it.next().choices().get(0).delta().content().orElseThrow());
        }
        assertEquals(List.of("Hel", "lo"), parts);
    }

    static String chunk(String text) {
        return "{\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o-mini\","
                + "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"" + text + "\"},\"finish_reason\":null}]}";
    }
}
