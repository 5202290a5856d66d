package io.modelegress.server.upstream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.modelegress.server.upstream.UpstreamAttempt.State;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Every state of an attempt, on EmbeddedChannels and a frozen clock: how it gets there, each failure class before
 * and after the commit point, and the agent leaving at each state. No sockets, no real time.
 */
class UpstreamAttemptTest {
    private static final String CONFIG = "server: { listen: 127.0.0.1:0, admin: 127.0.0.1:0 }\n"
            + "proxy: { use_environment: false }\n"
            + "timeouts: { response_headers: 2s, stream_idle: 1s, request: 30s }\n"
            + "retry: { max_attempts: 3, backoff: { base: 100ms, max: 100ms } }\n"
            + "upstreams:\n"
            + "  up: { url: \"http://up.test:8000\", limits: { max_concurrent: 1, max_queue_wait: 10s } }\n"
            + "  alt: { url: \"http://alt.test:8000\" }\n"
            + "routes:\n  - { name: r, prefix: /v1, upstreams: [up] }\n"
            + "  - { name: f, prefix: /fallback, upstreams: [up, alt] }\n";
    private static final String OK = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}";
    private static final String SSE_HEAD = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n";
    private static final String CHUNK = "data: {\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"},\"finish_reason\":null}]}\n\n";

    private final ExchangeHarness h = new ExchangeHarness(CONFIG);

    UpstreamAttemptTest() throws Exception {}

    @AfterEach
    void close() { h.close(); }

    private static String chunked(String data) {
        return Integer.toHexString(data.length()) + "\r\n" + data + "\r\n";
    }

    private State state(Exchange ex) { return ex.currentAttempt().state(); }

    @Test
    void aPlainAnswerGoesThroughEveryStateInOrderAndPoolsItsConnection() {
        h.connect = ExchangeHarness.Connect.HOLD;
        Exchange ex = h.start("/v1/chat/completions", "{}");
        UpstreamAttempt a = ex.currentAttempt();
        assertEquals(State.CONNECTING, a.state());
        h.heldConnects.poll().setSuccess(h.upstream());
        h.run();
        assertEquals(State.SENT, a.state());
        assertTrue(ExchangeHarness.request(h.upstream()).startsWith("POST /v1/chat/completions HTTP/1.1"));
        h.reply(h.upstream(), "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n");
        assertEquals(State.COMMITTED, a.state(), "a plain answer is committed at its head");
        h.reply(h.upstream(), "{}");
        assertEquals(State.DONE, a.state());
        assertNull(ex.currentAttempt());
        assertEquals(List.of("attempt 1 up", "connect", "connected", "headers 200", "committed", "attempt end ok", "end ok"), h.events);
        assertEquals(List.of("HEAD 200", "{}"), h.agentReceived());
        assertTrue(h.upstream().isActive(), "a clean keep-alive answer leaves its connection pooled");
        assertEquals(1, h.rt.pool().counts("up").idle.intValue());
    }

    @Test
    void admittingWaitsInTheLimiterQueueUntilASlotFrees() {
        Exchange first = h.start("/v1/a", "{}");
        Exchange second = h.start("/v1/b", "{}");
        assertEquals(State.ADMITTING, state(second), "max_concurrent 1: the second waits for the first's slot");
        assertEquals(1, h.upstreams.size());
        h.reply(h.upstream(), OK);
        assertNull(first.currentAttempt());
        h.run();
        assertEquals(State.SENT, state(second), "the freed slot admits the queued attempt (on the pooled connection)");
        assertTrue(h.events.contains("admitted"));
    }

    @Test
    void theAgentLeavingWhileAdmittingTakesNoSlotAndSendsNothing() {
        h.start("/v1/a", "{}");
        Exchange second = h.start("/v1/b", "{}");
        UpstreamAttempt queued = second.currentAttempt();
        second.cancel();
        assertEquals(State.FAILED, queued.state());
        ExchangeHarness.request(h.upstream());
        h.reply(h.upstream(), OK);
        assertEquals("", ExchangeHarness.request(h.upstream()), "the cancelled request never went out");
        assertEquals(0, h.rt.upstream("up").limiter.inFlight());
    }

    @Test
    void theAgentLeavingWhileConnectingDiscardsTheConnectionWhenItArrives() {
        h.connect = ExchangeHarness.Connect.HOLD;
        Exchange ex = h.start("/v1/a", "{}");
        ex.cancel();
        EmbeddedChannel late = h.upstream();
        h.heldConnects.poll().setSuccess(late);
        h.run();
        assertFalse(late.isActive(), "a connection that arrives for a cancelled attempt is closed, not pooled");
        assertEquals(List.of("attempt 1 up", "connect", "end cancelled"), h.events);
    }

    @Test
    void theAgentLeavingAfterTheRequestWasSentClosesTheUpstreamConnection() {
        Exchange ex = h.start("/v1/a", "{}");
        assertEquals(State.SENT, state(ex));
        EmbeddedChannel up = h.upstream();
        ex.cancel();
        assertFalse(up.isActive());
        assertEquals(0, h.rt.upstream("up").limiter.inFlight(), "its permit is given back");
    }

    @Test
    void theAgentLeavingWhileAStreamIsHeldBeforeItsFirstEventReleasesWhatWasHeld() {
        Exchange ex = h.start("/v1/a", "{\"stream\":true}");
        EmbeddedChannel up = h.upstream();
        h.reply(up, SSE_HEAD + chunked(": keep-alive\n\n"));
        UpstreamAttempt a = ex.currentAttempt();
        assertEquals(State.HEADERS, a.state());
        ex.cancel(); // the held comment buffer is released (the leak detector fails the class otherwise)
        assertEquals(State.FAILED, a.state());
        assertFalse(up.isActive());
        assertEquals(List.of(), h.agentReceived());
    }

    @Test
    void whileTheAgentIsTooSlowToReadStreamIdleDoesNotRunAndRestartsWhenItDrains() {
        Exchange ex = h.start("/v1/a", "{\"stream\":true}");
        EmbeddedChannel up = h.upstream();
        h.down.unsafe().outboundBuffer().setUserDefinedWritability(1, false);
        h.reply(up, SSE_HEAD + chunked(CHUNK));
        UpstreamAttempt a = ex.currentAttempt();
        assertFalse(up.config().isAutoRead(), "back-pressure: the upstream is not read while the agent's socket is full");
        h.advance(5000); // far past stream_idle (1s): the silence is ours
        assertEquals(State.COMMITTED, a.state());
        h.down.unsafe().outboundBuffer().setUserDefinedWritability(1, true);
        ex.onDownstreamWritable();
        assertTrue(up.config().isAutoRead());
        h.advance(999);
        assertEquals(State.COMMITTED, a.state());
        h.advance(1);
        assertEquals(State.FAILED, a.state(), "timed again from when reading resumed");
    }

    @Test
    void theAgentLeavingMidStreamClosesTheUpstreamConnection() {
        Exchange ex = h.start("/v1/a", "{\"stream\":true}");
        EmbeddedChannel up = h.upstream();
        h.reply(up, SSE_HEAD + chunked(CHUNK));
        UpstreamAttempt a = ex.currentAttempt();
        assertEquals(State.COMMITTED, a.state());
        ex.cancel();
        assertFalse(up.isActive());
        assertEquals("end cancelled", h.events.get(h.events.size() - 1));
    }

    @Test
    void noResponseHeadersInTimeFailsTheAttemptOnTheClock() {
        Exchange ex = h.start("/v1/a", "{}");
        h.advance(1999);
        assertEquals(State.SENT, state(ex));
        h.advance(1);
        assertNull(ex.currentAttempt());
        assertEquals(List.of("HEAD 504 upstream_response_timeout"), h.agentReceived().subList(0, 1));
        assertTrue(h.events.contains("attempt end timeout"), h.events.toString());
    }

    @Test
    void aConnectFailureIsRetriedAfterTheBackoffOnTheNextAttempt() {
        h.connect = ExchangeHarness.Connect.REFUSE;
        Exchange ex = h.start("/v1/a", "{}");
        assertNull(ex.currentAttempt(), "between attempts: waiting for the backoff");
        h.connect = ExchangeHarness.Connect.OPEN;
        h.advance(100);
        assertEquals(State.SENT, state(ex));
        assertEquals(2, ex.context().attempts);
        h.reply(h.upstream(), OK);
        assertEquals(List.of("HEAD 200", "{}"), h.agentReceived());
        assertTrue(h.events.contains("retry connect_failure"), h.events.toString());
    }

    @Test
    void aResetBeforeTheResponseOnAFreshConnectionFailsTheAttemptAndTheNextOneAnswers() {
        Exchange ex = h.start("/v1/a", "{}");
        UpstreamAttempt first = ex.currentAttempt();
        h.upstream().close();
        h.run();
        assertEquals(State.FAILED, first.state());
        h.advance(100);
        UpstreamAttempt second = ex.currentAttempt();
        assertEquals(State.SENT, second.state());
        assertEquals(2, h.upstreams.size());
        h.reply(h.upstream(), OK);
        assertEquals(List.of("HEAD 200", "{}"), h.agentReceived());
    }

    @Test
    void aTimeoutMovesToTheNextUpstreamAtOnceWhereTheRouteHasOne() {
        Exchange ex = h.start("/fallback/a", "{}");
        UpstreamAttempt first = ex.currentAttempt();
        h.advance(2000);
        assertEquals(State.FAILED, first.state());
        UpstreamAttempt second = ex.currentAttempt();
        assertEquals(State.SENT, second.state(), "no backoff before a fallback");
        assertEquals("alt", ex.context().upstream);
        assertTrue(h.events.contains("retry fallback"), h.events.toString());
        h.reply(h.upstream(), OK);
        assertEquals(List.of("HEAD 200", "{}"), h.agentReceived());
    }

    @Test
    void aStalePooledConnectionIsReplayedAtOnceAsAnAttemptOnAFreshConnection() {
        h.start("/v1/a", "{}");
        h.reply(h.upstream(), OK);
        h.agentReceived();
        EmbeddedChannel pooled = h.upstream();
        Exchange ex = h.start("/v1/b", "{}");
        UpstreamAttempt first = ex.currentAttempt();
        assertEquals(1, h.upstreams.size(), "the pooled connection was reused");
        pooled.close(); // the server had closed it while it sat in the pool
        h.run();
        assertEquals(State.FAILED, first.state());
        UpstreamAttempt replay = ex.currentAttempt();
        assertEquals(State.SENT, replay.state(), "replayed at once, no backoff");
        assertEquals(2, h.upstreams.size(), "on a fresh connection");
        h.reply(h.upstream(), OK);
        assertEquals(2, ex.context().attempts, "counted like any other attempt");
        assertTrue(h.events.contains("attempt end stale_connection") && h.events.contains("retry stale_connection"), h.events.toString());
    }

    @Test
    void aHeldErrorAnswerIsRetriedAndNeverReachesTheAgent() {
        Exchange ex = h.start("/v1/a", "{}");
        h.reply(h.upstream(), "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 7\r\n\r\n");
        assertEquals(State.HEADERS, state(ex), "an error answer is held, not committed");
        assertEquals(List.of(), h.agentReceived());
        h.reply(h.upstream(), "overrun");
        assertNull(ex.currentAttempt());
        h.advance(100);
        h.reply(h.upstream(), OK);
        assertEquals(List.of("HEAD 200", "{}"), h.agentReceived(), "the 503 was dropped; the retry answered");
        assertEquals(1, h.upstreams.size(), "the 503's clean connection was pooled and reused");
    }

    @Test
    void aStreamIsHeldUntilItsFirstEventAndAFailureBeforeThatIsAJsonError() {
        Exchange ex = h.start("/v1/a", "{\"stream\":true}");
        h.reply(h.upstream(), SSE_HEAD + chunked(": keep-alive\n\n"));
        assertEquals(State.HEADERS, state(ex));
        assertEquals(List.of(), h.agentReceived(), "comments are held before the first event");
        h.advance(1000); // stream_idle before the first event: nothing was sent, so a clean answer
        assertEquals("HEAD 504 stream_idle_timeout", h.agentReceived().get(0));
    }

    @Test
    void aStreamIdleAfterTheCommitPointEndsTheStreamWithAnErrorEventAndNoRetry() {
        Exchange ex = h.start("/v1/a", "{\"stream\":true}");
        h.reply(h.upstream(), SSE_HEAD + chunked(CHUNK));
        UpstreamAttempt a = ex.currentAttempt();
        assertEquals(State.COMMITTED, a.state());
        h.advance(999);
        assertEquals(State.COMMITTED, a.state());
        h.advance(1);
        assertEquals(State.FAILED, a.state());
        List<String> got = h.agentReceived();
        assertEquals("HEAD 200", got.get(0));
        assertTrue(got.get(got.size() - 1).contains("\"code\":\"stream_idle_timeout\""), got.toString());
        assertEquals(1, ex.context().attempts, "nothing is retried after the commit point");
        assertFalse(h.upstreams.peekFirst().isActive());
    }

    @Test
    void aResetAfterTheCommitPointEndsTheStreamWithUpstreamReset() {
        Exchange ex = h.start("/v1/a", "{\"stream\":true}");
        h.reply(h.upstream(), SSE_HEAD + chunked(CHUNK));
        h.upstream().close();
        h.run();
        List<String> got = h.agentReceived();
        assertTrue(got.get(got.size() - 1).contains("\"code\":\"upstream_reset\""), got.toString());
        assertEquals("end error", h.events.get(h.events.size() - 1));
        assertEquals(1, ex.context().attempts);
    }

    @Test
    void theDeadlineEndsAnAttemptInAnyStateAndItsBooksClose() {
        h.connect = ExchangeHarness.Connect.HOLD;
        Exchange ex = h.start("/v1/a", "{}");
        UpstreamAttempt a = ex.currentAttempt();
        h.advance(30_000);
        assertEquals(State.FAILED, a.state());
        assertEquals("HEAD 504 request_deadline_exceeded", h.agentReceived().get(0));
        assertEquals(0, h.rt.upstream("up").limiter.inFlight());
        EmbeddedChannel late = h.upstream();
        h.heldConnects.poll().setSuccess(late);
        h.run();
        assertFalse(late.isActive(), "the connection that arrives after the end is closed");
    }
}
