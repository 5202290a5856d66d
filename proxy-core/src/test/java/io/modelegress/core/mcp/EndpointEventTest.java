package io.modelegress.core.mcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.net.URI;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class EndpointEventTest {
    @ParameterizedTest(name = "{0} via {1}, prefix {2}, strip {3} -> {4}")
    @CsvSource(delimiter = '|', value = {
        // Path-absolute: mapped back through the route.
        "/messages?sessionId=abc                       | http://10.0.0.5:9000       | /tools | true  | /tools/messages?sessionId=abc",
        "/messages?sessionId=abc                       | http://10.0.0.5:9000       | /      | false | /messages?sessionId=abc",
        "/mcp/message?sessionId=abc                    | http://10.0.0.5:9000       | /mcp   | false | /mcp/message?sessionId=abc",
        // The upstream's base path comes off, the route's prefix goes on.
        "/api/messages?sessionId=abc                   | http://10.0.0.5:9000/api   | /tools | true  | /tools/messages?sessionId=abc",
        "/api?sessionId=abc                            | http://10.0.0.5:9000/api/  | /tools | true  | /tools/?sessionId=abc",
        "/apis/messages                                | http://10.0.0.5:9000/api   | /tools | true  | /tools/apis/messages",
        // An absolute URL of the upstream: the agent would go around the sidecar.
        "http://10.0.0.5:9000/messages?sessionId=abc   | http://10.0.0.5:9000       | /tools | true  | /tools/messages?sessionId=abc",
        "HTTPS://Tools.Internal/messages?sessionId=abc | https://tools.internal:443 | /tools | true  | /tools/messages?sessionId=abc",
        "http://10.0.0.5:9000                          | http://10.0.0.5:9000       | /tools | true  | /tools/",
        // Left as they are: another origin; a relative reference that already resolves against the sidecar's URL.
        "http://elsewhere:9000/messages                | http://10.0.0.5:9000       | /tools | true  | http://elsewhere:9000/messages",
        "http://10.0.0.5:9001/messages                 | http://10.0.0.5:9000       | /tools | true  | http://10.0.0.5:9001/messages",
        "messages?sessionId=abc                        | http://10.0.0.5:9000       | /tools | true  | messages?sessionId=abc",
        "//10.0.0.5:9000/messages                      | http://10.0.0.5:9000       | /tools | true  | //10.0.0.5:9000/messages",
    })
    void mapsTheUpstreamsEndpointToTheSidecarsPath(String endpoint, String upstream, String prefix, boolean strip, String expected) {
        URI u = URI.create(upstream);
        String base = u.getRawPath() == null || u.getRawPath().isEmpty() ? "" : u.getRawPath().replaceAll("/$", "");
        assertEquals(expected, EndpointEvent.agentUrl(endpoint, u, base, prefix, strip));
    }

    @Test
    void rewritesTheDataOfAnEndpointEventOnly() {
        URI u = URI.create("http://127.0.0.1:9000");
        assertEquals("event: endpoint\ndata: /tools/messages?sessionId=1\n\n",
                EndpointEvent.rewrite("event: endpoint\ndata: http://127.0.0.1:9000/messages?sessionId=1\n\n", u, "", "/tools", true));
        assertEquals("event:endpoint\ndata: /tools/m\n\n",
                EndpointEvent.rewrite("event:endpoint\r\ndata:/m\r\n\r\n", u, "", "/tools", true));
        String message = "event: message\ndata: {\"endpoint\":\"/m\"}\n\n";
        assertSame(message, EndpointEvent.rewrite(message, u, "", "/tools", true));
        String unchanged = "event: endpoint\ndata: /m\n\n";
        assertSame(unchanged, EndpointEvent.rewrite(unchanged, u, "", "/", false));
    }
}
