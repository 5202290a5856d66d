package io.modelegress.core.ratelimit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.modelegress.core.time.ManualTicker;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ResponseUsageTest {
    @Test
    void aPlainBodyReportsItsUsageOnceWhole() {
        ResponseUsage u = ResponseUsage.forBody();
        byte[] body = "{\"usage\":{\"prompt_tokens\":7,\"completion_tokens\":3}}".getBytes(StandardCharsets.UTF_8);
        u.onBody(java.util.Arrays.copyOfRange(body, 0, 10));
        u.onBody(java.util.Arrays.copyOfRange(body, 10, body.length));
        assertEquals(TokenCount.of(7, 3), u.usage());
    }

    @Test
    void aStreamReportsTheUsageOfItsEvents() {
        ResponseUsage u = ResponseUsage.forStream();
        u.onEvent("{\"choices\":[{\"delta\":{\"content\":\"x\"}}]}");
        u.onEvent("{\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":2}}");
        assertFalse(u.wantsBody());
        assertEquals(TokenCount.of(5, 2), u.usage());
    }

    @Test
    void nothingReportedLeavesTheEstimate() {
        assertNull(ResponseUsage.forBody().usage());
        assertNull(ResponseUsage.forStream().usage());
    }

    @Test
    void quotaHeadersArePickedOutWhateverTheirCase() {
        List<Map.Entry<CharSequence, CharSequence>> headers = List.of(
                Map.entry("Content-Type", "application/json"),
                Map.entry("X-RateLimit-Remaining-Requests", "0"),
                Map.entry("x-ratelimit-reset-requests", "2s"),
                Map.entry("X-RateLimit-Limit-Requests", "60"));
        RateLimitSnapshot s = RateLimitHeaders.scan(headers.iterator(), new ManualTicker());
        assertEquals(RateLimitHeaders.parse(Map.of("x-ratelimit-remaining-requests", "0", "x-ratelimit-reset-requests", "2s",
                "x-ratelimit-limit-requests", "60")::get, new ManualTicker()), s);
        assertEquals(1, s.readings().size(), "the requests quota, read from mixed-case names");
        assertEquals(RateLimitSnapshot.EMPTY, RateLimitHeaders.scan(List.<Map.Entry<CharSequence, CharSequence>>of(
                Map.entry("content-type", "text/plain")).iterator(), new ManualTicker()));
    }
}
