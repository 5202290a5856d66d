package io.modelegress.deploy;

import java.util.Set;
import java.util.TreeSet;

/** The Prometheus names docs/operations.md ("Read the metrics") promises: what alerts and dashboards may read. */
final class ContractMetrics {
    static final Set<String> COUNTERS_AND_GAUGES = Set.of(
            "egress_requests_total", "egress_errors_total", "egress_upstream_attempts_total", "egress_retries_total",
            "egress_queue_depth", "egress_breaker_open", "egress_upstream_connections");
    static final Set<String> HISTOGRAMS = Set.of(
            "egress_request_duration_seconds", "egress_time_to_first_byte_seconds", "egress_queue_wait_seconds");
    /** Series every Prometheus has about its own targets. */
    static final Set<String> PROMETHEUS = Set.of("up");

    private ContractMetrics() {}

    static Set<String> allowed() {
        Set<String> all = new TreeSet<>(COUNTERS_AND_GAUGES);
        all.addAll(PROMETHEUS);
        for (String h : HISTOGRAMS) {
            for (String suffix : new String[] {"_bucket", "_count", "_sum"}) all.add(h + suffix);
        }
        return all;
    }

    /** The names in the expression that the contract does not promise. */
    static Set<String> unknownIn(String expr) {
        Set<String> names = PromQl.metricNames(expr);
        names.removeAll(allowed());
        return names;
    }
}
