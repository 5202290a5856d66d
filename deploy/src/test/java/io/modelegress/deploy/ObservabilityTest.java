package io.modelegress.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** deploy/observability: the alert rules and the dashboard read only the metrics the contract promises. */
class ObservabilityTest {
    private static final Path ALERTS = DeployFiles.deployDir().resolve("observability/alerts.yaml");
    private static final Path DASHBOARD = DeployFiles.deployDir().resolve("observability/grafana-dashboard.json");

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiterString = " => ", value = {
            "sum by (route, code) (rate(egress_errors_total{code!~\"a|b\"}[5m])) => egress_errors_total",
            "histogram_quantile(0.99, sum by (le) (rate(egress_time_to_first_byte_seconds_bucket[10m]))) > 20 => egress_time_to_first_byte_seconds_bucket",
            "a / ignoring (code) group_left b and on (route) c > 0.05 => a b c",
            "up{job=\"model-egress\"} == 0 => up",
            "max(egress_breaker_open) by (upstream) => egress_breaker_open",
            "rate(egress_requests_total{route=~\"$route\"}[$__rate_interval]) => egress_requests_total",
            "label_values(egress_requests_total, route) => egress_requests_total",
            "sum(rate(egress_request_total[5m])) offset 1h => egress_request_total",
    })
    void promQlMetricNamesFindsEveryMetricAndNothingElse(String expr, String expected) {
        assertEquals(Set.of(expected.split(" ")), PromQl.metricNames(expr));
    }

    @Test
    void aMisspeltMetricIsCaught() {
        assertEquals(Set.of("egress_request_total"), ContractMetrics.unknownIn("sum(rate(egress_request_total[5m]))"));
        assertEquals(Set.of("egress_queue_depth_bucket"), ContractMetrics.unknownIn("egress_queue_depth_bucket"));
    }

    @Test
    void alertRulesAreCompleteAndReadOnlyContractMetrics() {
        Map<String, Object> doc = DeployFiles.readYamlMap(ALERTS);
        List<Map<String, Object>> rules = new ArrayList<>();
        for (Object g : (List<?>) doc.get("groups")) rules.addAll(maps(((Map<?, ?>) g).get("rules")));
        Set<String> names = new HashSet<>();
        for (Map<String, Object> rule : rules) {
            String name = (String) rule.get("alert");
            assertNotNull(name, "a rule without alert: " + rule);
            assertTrue(names.add(name), "two rules named " + name);
            String expr = String.valueOf(rule.get("expr"));
            assertEquals(Set.of(), ContractMetrics.unknownIn(expr), name + " reads metrics the contract does not promise");
            assertNotNull(((Map<?, ?>) rule.get("labels")).get("severity"), name + ": no severity label");
            assertNotNull(((Map<?, ?>) rule.get("annotations")).get("summary"), name + ": no summary");
        }
        String all = DeployFiles.read(ALERTS);
        for (String topic : List.of("egress_errors_total", "upstream_unavailable", "egress_breaker_open",
                "egress_time_to_first_byte_seconds_bucket", "egress_queue_depth", "rate_limited", "up{")) {
            assertTrue(all.contains(topic), "no alert rule about " + topic);
        }
    }

    @Test
    void dashboardIsValidJsonReadingOnlyContractMetrics() throws IOException {
        JsonNode dash = DeployFiles.JSON.readTree(DASHBOARD.toFile());
        assertFalse(dash.path("title").asText().isEmpty(), "dashboard has no title");
        Set<Integer> ids = new HashSet<>();
        Set<String> used = new HashSet<>();
        for (JsonNode panel : dash.path("panels")) {
            assertTrue(ids.add(panel.path("id").asInt()), "duplicate panel id " + panel.path("id"));
            assertTrue(panel.path("targets").size() > 0, "panel " + panel.path("title") + " has no query");
            for (JsonNode t : panel.path("targets")) {
                String expr = t.path("expr").asText();
                assertEquals(Set.of(), ContractMetrics.unknownIn(expr), "panel " + panel.path("title") + ": " + expr);
                used.addAll(PromQl.metricNames(expr));
            }
        }
        for (JsonNode v : dash.path("templating").path("list")) {
            String q = v.path("query").isObject() ? v.path("query").path("query").asText() : v.path("query").asText();
            if (v.path("type").asText().equals("query")) assertEquals(Set.of(), ContractMetrics.unknownIn(q), "variable " + v.path("name"));
        }
        for (String shown : List.of("egress_requests_total", "egress_errors_total", "egress_request_duration_seconds_bucket",
                "egress_time_to_first_byte_seconds_bucket", "egress_queue_depth", "egress_breaker_open", "egress_upstream_connections")) {
            assertTrue(used.contains(shown), "no panel shows " + shown);
        }
    }

    /** Where promtool is installed (Debian's prometheus package), it checks the PromQL itself. */
    @Test
    @org.junit.jupiter.api.Timeout(value = 2, unit = TimeUnit.MINUTES)
    void promtoolAcceptsTheRulesAndTheDashboardQueries(@TempDir Path tmp) throws Exception {
        String promtool = onPath("promtool");
        assumeTrue(promtool != null, "promtool is not on PATH (apt-get install prometheus): PromQL syntax not checked");
        run(promtool, "check", "rules", ALERTS.toString());

        StringBuilder rules = new StringBuilder("groups:\n- name: dashboard\n  rules:\n");
        int n = 0;
        for (JsonNode panel : DeployFiles.JSON.readTree(DASHBOARD.toFile()).path("panels")) {
            for (JsonNode t : panel.path("targets")) {
                String expr = t.path("expr").asText().replace("$__rate_interval", "5m").replace("$route", ".*");
                rules.append("  - record: dashboard:query").append(n++).append("\n    expr: ")
                        .append(DeployFiles.JSON.writeValueAsString(expr)).append('\n');
            }
        }
        Path file = tmp.resolve("dashboard-rules.yaml");
        Files.writeString(file, rules);
        run(promtool, "check", "rules", file.toString());
    }

    /** Runs the command; its output goes into the assertion message, not the forked JVM's stdout. */
    private static String run(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "timed out: " + String.join(" ", command));
        assertEquals(0, p.exitValue(), String.join(" ", command) + "\n" + out);
        return out;
    }

    static String onPath(String tool) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            Path p = Path.of(dir, tool);
            if (Files.isExecutable(p)) return p.toString();
        }
        return null;
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> maps(Object o) {
        return (List<Map<String, Object>>) o;
    }
}
