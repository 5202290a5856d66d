package io.modelegress.core.mcp;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.modelegress.core.error.ErrorCode;
import io.modelegress.core.retry.AttemptOutcome;
import java.util.Optional;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class McpRequestTest {
    @ParameterizedTest(name = "{0} {1} -> {2}")
    @CsvSource(delimiter = '|', nullValues = "-", value = {
        "GET    | text/event-stream                   | EVENT_STREAM",
        "get    | application/json, text/event-stream | EVENT_STREAM",
        "GET    | TEXT/EVENT-STREAM                   | EVENT_STREAM",
        "GET    | application/json                    | SAFE",
        "GET    | -                                   | SAFE",
        "HEAD   | text/event-stream                   | SAFE",
        "DELETE | -                                   | SESSION_END",
        "POST   | application/json, text/event-stream | MESSAGE",
        "PUT    | -                                   | MESSAGE",
    })
    void classifiesByMethodAndAccept(String method, String accept, McpRequest expected) {
        assertEquals(expected, McpRequest.of(method, accept));
    }

    private static AttemptOutcome outcome(String what) {
        switch (what) {
            case "connect_failure": return AttemptOutcome.failure(ErrorCode.UPSTREAM_CONNECT_REFUSED);
            case "reset": return AttemptOutcome.failure(ErrorCode.UPSTREAM_RESET);
            case "reset_after_head": return AttemptOutcome.failure(ErrorCode.UPSTREAM_RESET).afterResponseStarted();
            case "stale": return AttemptOutcome.staleConnection();
            case "timeout": return AttemptOutcome.failure(ErrorCode.UPSTREAM_RESPONSE_TIMEOUT);
            case "404": return AttemptOutcome.status(404);
            case "503": return AttemptOutcome.status(503, null, Optional.empty());
            default: throw new IllegalArgumentException(what);
        }
    }

    @ParameterizedTest(name = "{0}, {1}, written={2}, session={3} -> {4}")
    @CsvSource(delimiter = '|', value = {
        // A JSON-RPC message: only what never left the sidecar is sent again.
        "MESSAGE      | connect_failure  | false | false | POLICY",
        "MESSAGE      | connect_failure  | false | true  | SAME_UPSTREAM",
        "MESSAGE      | stale            | false | true  | SAME_UPSTREAM",
        "MESSAGE      | stale            | true  | true  | NEVER",
        "MESSAGE      | reset            | true  | false | NEVER",
        "MESSAGE      | timeout          | true  | false | NEVER",
        "MESSAGE      | reset_after_head | false | false | NEVER",
        // The server answered: its answer is the agent's, a 404 on a session included.
        "MESSAGE      | 404              | true  | true  | NEVER",
        "MESSAGE      | 503              | true  | false | NEVER",
        "SESSION_END  | 404              | true  | true  | NEVER",
        "EVENT_STREAM | 404              | true  | true  | NEVER",
        "EVENT_STREAM | 503              | true  | false | NEVER",
        // The event stream and DELETE are safe to repeat, on the session's server when there is a session.
        "EVENT_STREAM | connect_failure  | false | true  | SAME_UPSTREAM",
        "EVENT_STREAM | reset            | true  | false | POLICY",
        "EVENT_STREAM | timeout          | true  | true  | SAME_UPSTREAM",
        "SESSION_END  | reset            | true  | true  | SAME_UPSTREAM",
        "SAFE         | reset            | true  | false | POLICY",
    })
    void retriesOnlyWhatMcpSaysIsSafeToRepeat(McpRequest request, String outcome, boolean written, boolean session,
                                              McpRequest.Retry expected) {
        assertEquals(expected, request.retry(outcome(outcome), written, session));
    }
}
