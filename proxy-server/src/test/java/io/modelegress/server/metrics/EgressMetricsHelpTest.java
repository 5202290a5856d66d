package io.modelegress.server.metrics;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Every meter the sidecar can register says what it counts: each {@code # HELP} line of a scrape has text. */
public class EgressMetricsHelpTest {
    /** The {@code # HELP} lines of a Prometheus scrape without text after the name (or with the placeholder). */
    public static List<String> helpLinesWithoutText(String scrape) {
        List<String> empty = new ArrayList<>();
        for (String line : scrape.split("\n")) {
            if (!line.startsWith("# HELP ")) continue;
            String[] parts = line.substring("# HELP ".length()).split(" ", 2);
            if (parts.length < 2 || parts[1].isBlank() || parts[1].startsWith("undocumented")) empty.add(line);
        }
        return empty;
    }

    @Test
    void everyMeterOfEveryRecordingMethodHasAHelpText() {
        EgressMetrics m = new EgressMetrics();
        m.request("r", "u", 200, io.modelegress.server.events.RequestOutcome.OK, 1_000_000);
        m.request("r", "u", 502, io.modelegress.server.events.RequestOutcome.ERROR, 1_000_000);
        m.timeToFirstByte("r", "u", 1_000_000);
        m.error("upstream_reset", "r");
        m.attempt("u", "ok");
        m.attempt("u", "upstream_reset");
        m.retry("reset");
        m.breakerTransition("u", "open");
        m.retryStopped("u", "budget");
        m.cancelled("r");
        m.queueWait("u", 1_000_000);
        AtomicInteger n = new AtomicInteger();
        m.gauge("egress.breaker.open", n::get, "upstream", "u");
        m.gauge("egress.queue.depth", n::get, "upstream", "u");
        m.gauge("egress.upstream.in.flight", n::get, "upstream", "u");
        m.proxyAttempt("http://a:3128", "ok");
        m.pacFetch("failed");
        m.configReload("ok");
        m.configReload("rejected");
        m.bytes("request", 10);
        m.gauge("egress.upstream.connections", n::get, "upstream", "u", "state", "idle"); // as bindPool registers them
        m.gauge("egress.upstream.connections.opened", n::get, "upstream", "u");
        String scrape = m.scrape();
        assertTrue(scrape.contains("# HELP egress_requests_total"), scrape);
        List<String> empty = helpLinesWithoutText(scrape);
        assertTrue(empty.isEmpty(), "HELP without text:\n" + String.join("\n", empty) + "\n\nscrape:\n" + scrape);
    }
}
