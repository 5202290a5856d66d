package io.modelegress.core.config;

import io.modelegress.core.error.ErrorCode;
import java.util.Set;

/**
 * A route's mid-stream resume ({@code routes[].resume}): which committed failures are continued instead of ended
 * ({@code on}; empty = off, the default), how many continuations one request may have ({@code max}), and how much
 * forwarded text may be kept to build one ({@code maxBuffer} bytes; over it, that stream is not resumed).
 */
public record ResumeSettings(Set<Trigger> on, int max, long maxBuffer) {
    public static final ResumeSettings OFF = new ResumeSettings(Set.of(), 1, 256 * 1024);

    public ResumeSettings {
        on = Set.copyOf(on);
    }

    /** The committed failures that may be resumed, by their config word. */
    public enum Trigger {
        RESET("reset"), STREAM_IDLE("stream_idle"), INBAND_ERROR("inband_error");

        public final String word;

        Trigger(String word) { this.word = word; }

        public static Trigger of(String word) {
            for (Trigger t : values()) if (t.word.equals(word)) return t;
            return null;
        }
    }

    /** How an upstream continues a broken stream ({@code upstreams.NAME.resume_strategy}). */
    public enum Strategy {
        /** The original request plus an assistant message holding the text sent; only the remainder is generated. */
        PREFILL,
        /** The original request again, unchanged; the part of the new answer the agent already has is suppressed. */
        REPLAY
    }

    public boolean enabled() { return !on.isEmpty() && max > 0; }

    /** True when a committed failure with {@code code} is one this route resumes. */
    public boolean resumes(ErrorCode code) {
        if (!enabled()) return false;
        switch (code) {
            case UPSTREAM_RESET: return on.contains(Trigger.RESET);
            case STREAM_IDLE_TIMEOUT: return on.contains(Trigger.STREAM_IDLE);
            case UPSTREAM_STREAM_ERROR: return on.contains(Trigger.INBAND_ERROR);
            default: return false;
        }
    }
}
