package io.modelegress.core.timeout;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.modelegress.core.time.ManualTicker;
import java.time.Duration;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class RequestDeadlinesTest {
    static Stream<Arguments> requests() {
        return Stream.of(
                // route limit, x-egress-timeout, x-stainless-timeout, lang -> deadline, source, headers limit
                Arguments.of("600s", null, null, null, "600s", "timeouts.request", null),
                Arguments.of("600s", "30s", null, null, "30s", "x-egress-timeout", null),
                Arguments.of("20s", "30s", null, null, "20s", "timeouts.request", null),
                Arguments.of("600s", "garbage", null, null, "600s", "timeouts.request", null),
                // Java SDK: its timeout covers the whole call: the deadline ends a little before it (5% of it, 100ms..1s).
                Arguments.of("600s", null, "60", "java", "59s", "the agent SDK's own timeout (x-stainless-timeout: 60)", null),
                Arguments.of("600s", null, "1", "java", "900ms", "the agent SDK's own timeout (x-stainless-timeout: 1)", null),
                Arguments.of("600s", null, "600", "java", "599s", "the agent SDK's own timeout (x-stainless-timeout: 600)", null),
                Arguments.of("30s", null, "600", "java", "30s", "timeouts.request", null),
                // Node / Python / Anthropic: the SDK's timeout covers the wait for headers only.
                Arguments.of("600s", null, "60", "js", "600s", "timeouts.request", "59s"),
                Arguments.of("600s", "10s", "60", "python", "10s", "x-egress-timeout", null));
    }

    @ParameterizedTest
    @MethodSource("requests")
    void theDeadlineIsTheTightestOfTheRouteTheAgentAndItsSdk(String route, String egress, String stainless, String lang,
                                                             String deadline, String source, String headers) {
        RequestDeadlines.Plan p = RequestDeadlines.plan(new ManualTicker(), parse(route), egress, stainless, lang);
        assertEquals(parse(deadline), p.deadline().budget());
        assertEquals(source, p.deadline().source());
        assertEquals(headers == null ? null : parse(headers), p.headersLimit());
    }

    private static Duration parse(String s) {
        return s.endsWith("ms") ? Duration.ofMillis(Long.parseLong(s.replace("ms", "")))
                : Duration.ofSeconds(Long.parseLong(s.replace("s", "")));
    }
}
