package io.modelegress.core.config;

import java.time.Duration;
import java.util.List;

/**
 * An upstream's {@code health}: the active check that probes it while it is ejected. Off when {@code path} is null.
 * {@code expectedStatus}: exact statuses ("200") or classes ("2xx") that count as a pass.
 */
public record HealthSettings(String path, String method, Duration interval, int healthyAfter, List<String> expectedStatus) {
    public static final HealthSettings OFF = new HealthSettings(null, "GET", Duration.ofSeconds(2), 1, List.of("2xx"));

    public HealthSettings {
        expectedStatus = List.copyOf(expectedStatus);
    }

    public boolean enabled() { return path != null; }

    /** Whether a probe answered {@code status} passes (0: no answer). */
    public boolean accepts(int status) {
        if (status < 100) return false;
        for (String e : expectedStatus) {
            if (e.length() == 3 && e.endsWith("xx") && e.charAt(0) - '0' == status / 100) return true;
            if (e.equals(Integer.toString(status))) return true;
        }
        return false;
    }
}
