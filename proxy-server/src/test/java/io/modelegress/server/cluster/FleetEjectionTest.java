package io.modelegress.server.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.modelegress.core.breaker.CircuitBreaker;
import io.modelegress.server.testing.Http;
import io.modelegress.server.testing.RedisServer;
import io.modelegress.server.testing.Sidecar;
import io.modelegress.server.testing.TestUpstream;
import java.time.Duration;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** cluster.share_ejections: an upstream one replica ejects is skipped by the others at once. */
class FleetEjectionTest {
    @Test
    @Timeout(60)
    void anUpstreamEjectedByOneReplicaIsSkippedByTheOther() throws Exception {
        try (RedisServer redis = RedisServer.start(); TestUpstream bad = new TestUpstream(); TestUpstream good = new TestUpstream()) {
            bad.script(TestUpstream.json(503, "{\"error\":{\"message\":\"down\"}}"));
            good.script(TestUpstream.json(200, "{\"from\":\"good\"}"));
            String yaml = "cluster:\n  redis: { url: \"" + redis.url() + "\" }\n  share_ejections: true\n"
                    + "retry: { max_attempts: 2, retry_on: [\"503\"] }\n"
                    + "upstreams:\n"
                    + "  bad: { url: " + bad.url() + ", breaker: { consecutive_failures: 1, cooldown: 20s } }\n"
                    + "  good: { url: " + good.url() + " }\n"
                    + "routes:\n  - { name: r, prefix: /v1, upstreams: [bad, good] }\n";
            try (Sidecar first = Sidecar.start(yaml); Sidecar second = Sidecar.start(yaml)) {
                Awaitility.await().atMost(Duration.ofSeconds(10))
                        .until(() -> first.server.fleet().isUp() && second.server.fleet().isUp());
                assertEquals(200, Http.post(first.url() + "/v1/chat/completions", "{}").statusCode());
                int badSeen = bad.receivedCount();
                assertEquals(1, badSeen, "the first replica tried bad once, was ejected, fell back to good");
                Awaitility.await().atMost(Duration.ofSeconds(5)).until(() ->
                        second.server.runtime().upstream("bad").breaker.state() == CircuitBreaker.State.OPEN);
                assertEquals(200, Http.post(second.url() + "/v1/chat/completions", "{}").statusCode());
                assertEquals(badSeen, bad.receivedCount(), "the second replica skipped the ejected upstream");
            }
        }
    }
}
