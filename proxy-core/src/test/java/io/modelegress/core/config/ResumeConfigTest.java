package io.modelegress.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.modelegress.core.error.ErrorCode;
import java.util.Set;
import java.util.function.Function;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class ResumeConfigTest {
    private static final Function<String, String> NO_ENV = k -> null;
    private static final String BASE = String.join("\n",
            "upstreams:",
            "  vllm:",
            "    url: http://127.0.0.1:8000",
            "routes:",
            "  - name: chat",
            "    prefix: /v1",
            "    upstreams: [vllm]",
            "");

    private static EgressConfig parse(String yaml) throws Exception { return ConfigLoader.parse(yaml, "egress.yaml", NO_ENV); }

    @Test
    void resumeIsOffAndReplayIsTheStrategyByDefault() throws Exception {
        EgressConfig cfg = parse(BASE);
        ResumeSettings r = cfg.routes().get(0).resume();
        assertFalse(r.enabled());
        assertFalse(r.resumes(ErrorCode.UPSTREAM_RESET));
        assertEquals(1, r.max());
        assertEquals(256 * 1024, r.maxBuffer());
        assertEquals(ResumeSettings.Strategy.REPLAY, cfg.upstream("vllm").resumeStrategy());
    }

    @Test
    void resumeAndStrategyAreReadAsWritten() throws Exception {
        EgressConfig cfg = parse(BASE.replace("    upstreams: [vllm]", "    upstreams: [vllm]\n"
                + "    resume: { on: [reset, stream_idle], max: 2, max_buffer: 64KiB }")
                .replace("    url: http://127.0.0.1:8000", "    url: http://127.0.0.1:8000\n    resume_strategy: prefill"));
        ResumeSettings r = cfg.routes().get(0).resume();
        assertEquals(Set.of(ResumeSettings.Trigger.RESET, ResumeSettings.Trigger.STREAM_IDLE), r.on());
        assertTrue(r.resumes(ErrorCode.UPSTREAM_RESET));
        assertTrue(r.resumes(ErrorCode.STREAM_IDLE_TIMEOUT));
        assertFalse(r.resumes(ErrorCode.UPSTREAM_PROTOCOL_ERROR));
        assertEquals(2, r.max());
        assertEquals(64 * 1024, r.maxBuffer());
        assertEquals(ResumeSettings.Strategy.PREFILL, cfg.upstream("vllm").resumeStrategy());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "unknown trigger | resume: { on: [rest] } | routes[0].resume.on: \"rest\" (did you mean \"reset\"?)",
        "negative max | resume: { on: [reset], max: -1 } | routes[0].resume.max: -1 (expected: an integer >= 0)",
        "zero buffer | resume: { on: [reset], max_buffer: 0 } | routes[0].resume.max_buffer: 0 (expected: a size >= 1 byte",
        "unknown key | resume: { on: [reset], maxbuffer: 1 } | routes[0].resume.maxbuffer: unknown key (did you mean \"max_buffer\"?)",
    })
    void badResumeSettingsNameTheKey(String name, String line, String expected) {
        String yaml = BASE.replace("    upstreams: [vllm]", "    upstreams: [vllm]\n    " + line);
        InvalidConfigException e = assertThrows(InvalidConfigException.class, () -> parse(yaml));
        assertTrue(e.getMessage().contains(expected), () -> name + ": " + e.getMessage());
    }

    @Test
    void unknownStrategyIsRefused() {
        String yaml = BASE.replace("    url: http://127.0.0.1:8000", "    url: http://127.0.0.1:8000\n    resume_strategy: prefil");
        InvalidConfigException e = assertThrows(InvalidConfigException.class, () -> parse(yaml));
        assertTrue(e.getMessage().contains("upstreams.vllm.resume_strategy: \"prefil\" (expected: prefill or replay)"), e.getMessage());
    }
}
