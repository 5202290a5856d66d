package io.modelegress.core.breaker;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.modelegress.core.config.HealthSettings;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class HealthCheckTest {
    @ParameterizedTest(name = "healthy_after {0}, expect {1}, probes {2} -> healthy after probes {3}")
    @CsvSource(delimiter = '|', value = {
            "1 | 2xx     | 200           | 1",
            "1 | 2xx     | 0 503 204     | 3",
            "2 | 2xx     | 200 200       | 2",
            "2 | 2xx     | 200 503 200   | -",
            "2 | 2xx     | 200 0 200 200 | 4",
            "3 | 2xx     | 200 200 200 200 200 200 | 3 6",
            "1 | 200     | 204 401 200   | 3",
            "1 | 2xx 404 | 404           | 1",
            "1 | 2xx     | 404 401 500 0 | -",
    })
    void healthyAfterThatManyPassesInARow(int healthyAfter, String expect, String probes, String healthyAt) {
        HealthCheck check = new HealthCheck(new HealthSettings("/v1/models", "GET", Duration.ofSeconds(2), healthyAfter,
                Arrays.asList(expect.split(" "))));
        List<String> healthy = new ArrayList<>();
        String[] statuses = probes.split(" ");
        for (int i = 0; i < statuses.length; i++) {
            if (check.onProbe(Integer.parseInt(statuses[i]))) healthy.add(Integer.toString(i + 1));
        }
        assertEquals(healthyAt.equals("-") ? "" : healthyAt, String.join(" ", healthy));
    }
}
