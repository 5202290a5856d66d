package io.modelegress.server.loopback;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.modelegress.server.runtime.Transport;
import io.modelegress.server.testing.RawHttp;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The one fake provider the training run and the tests share: it records what it got and answers by script. */
@Timeout(20)
class ScriptedUpstreamTest {
    private static final String CHAT = "{\"model\":\"m\",\"messages\":[]}";
    private static final String STREAM = "{\"model\":\"m\",\"stream\":true,\"messages\":[]}";

    @Test
    void theTrainingRunsCompletionAnswersJsonOrSseByTheBodyAndRecordsTheRequest() throws Exception {
        try (ScriptedUpstream up = new ScriptedUpstream(Transport.best(), "scripted-test", null, 1 << 20, Scripts.completion())) {
            RawHttp.Response plain = post(up, CHAT);
            assertEquals(200, plain.status());
            assertTrue(plain.header("content-type").startsWith("application/json"), plain.toString());
            assertTrue(plain.body().contains("\"usage\""), plain.body());

            RawHttp.Response sse = post(up, STREAM);
            assertEquals(200, sse.status());
            assertEquals("text/event-stream", sse.header("content-type"));
            assertTrue(sse.body().endsWith("data: [DONE]\n\n"), sse.body());

            ScriptedUpstream.Received first = up.poll(5, TimeUnit.SECONDS);
            assertEquals("POST", first.method());
            assertEquals("/v1/chat/completions", first.uri());
            assertEquals("Bearer t", first.header("authorization"));
            assertEquals(CHAT, first.body());
            assertEquals(1, up.receivedCount());
            assertEquals(2, up.accepted());
        }
    }

    @Test
    void aNewScriptAnswersTheNextRequest() throws Exception {
        try (ScriptedUpstream up = new ScriptedUpstream(Transport.best(), "scripted-test", null, 1 << 20, Scripts.completion())) {
            up.script(Scripts.json(429, "{\"error\":{}}"));
            RawHttp.Response r = post(up, CHAT);
            assertEquals(429, r.status());
            assertEquals("{\"error\":{}}", r.body());
        }
    }

    private static RawHttp.Response post(ScriptedUpstream up, String body) throws Exception {
        try (RawHttp raw = new RawHttp(up.port())) {
            return raw.send("POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer t\r\n"
                    + "Content-Type: application/json\r\nContent-Length: " + body.length() + "\r\nConnection: close\r\n\r\n" + body).read();
        }
    }
}
