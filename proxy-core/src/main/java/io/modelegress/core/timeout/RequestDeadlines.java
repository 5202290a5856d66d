package io.modelegress.core.timeout;

import io.modelegress.core.time.Durations;
import io.modelegress.core.time.Ticker;
import java.time.Duration;

/**
 * The deadline of one agent request: the route's {@code timeouts.request}, shortened by the agent's
 * {@code x-egress-timeout}, and by the timeout its SDK announces in {@code X-Stainless-Timeout} (seconds), answered a
 * little before the agent would give up so it reads our specific error instead of its own anonymous timeout. The
 * Java SDK's timeout covers the whole call, so it caps the deadline; the Node and Anthropic SDKs' covers only the
 * wait for response headers, so it caps that (a {@code headersLimit}).
 */
public final class RequestDeadlines {
    public static final String X_EGRESS_TIMEOUT = "x-egress-timeout";
    public static final String X_STAINLESS_TIMEOUT = "x-stainless-timeout";
    public static final String X_STAINLESS_LANG = "x-stainless-lang";

    /** The deadline, and a limit on the wait until the response is committed (null: none but the deadline). */
    public record Plan(Deadline deadline, Duration headersLimit, String headersLimitSource) {}

    private RequestDeadlines() {}

    /**
     * @param routeLimit   the route's {@code timeouts.request}
     * @param egressTimeout the agent's {@code x-egress-timeout}, or null
     * @param announced    the SDK's {@code x-stainless-timeout}, or null
     * @param sdkLang      the SDK's {@code x-stainless-lang}, or null
     */
    public static Plan plan(Ticker ticker, Duration routeLimit, String egressTimeout, String announced, String sdkLang) {
        Duration limit = routeLimit;
        String source = "timeouts.request";
        Duration agent = Durations.parseLenient(egressTimeout);
        if (agent != null && agent.compareTo(limit) < 0) {
            limit = agent;
            source = X_EGRESS_TIMEOUT;
        }
        Duration headersLimit = null;
        String headersSource = null;
        Duration sdk = Durations.parseLenient(announced);
        if (sdk != null) {
            Duration beforeAgent = sdk.minus(Duration.ofMillis(Math.max(100, Math.min(1000, sdk.toMillis() / 20))));
            String sdkSource = "the agent SDK's own timeout (x-stainless-timeout: " + announced + ")";
            if (beforeAgent.compareTo(limit) < 0) {
                if ("java".equalsIgnoreCase(sdkLang)) {
                    limit = beforeAgent;
                    source = sdkSource;
                } else {
                    headersLimit = beforeAgent;
                    headersSource = sdkSource;
                }
            }
        }
        return new Plan(new Deadline(ticker, limit, source), headersLimit, headersSource);
    }
}
