package io.modelegress.core.config;

import java.util.List;
import java.util.stream.Collectors;

/**
 * The config cannot be used. Each problem names the key, where it was written (file:line) and what was expected;
 * {@link #getMessage()} is what the operator reads, one problem per line, no stack trace needed.
 */
public final class InvalidConfigException extends Exception {
    private static final long serialVersionUID = 1L;

    private final transient List<Problem> problems;

    public InvalidConfigException(List<Problem> problems) {
        super(problems.stream().map(Problem::toString).collect(Collectors.joining("\n")), null, false, false);
        this.problems = List.copyOf(problems);
    }

    public List<Problem> problems() { return problems; }

    /** One thing wrong: {@code location} is "file:line" (or the file alone when the line is unknown). */
    public record Problem(String key, String location, String message) {
        @Override
        public String toString() {
            String where = location == null || location.isEmpty() ? "" : location + ": ";
            String what = key == null || key.isEmpty() ? "" : key + ": ";
            return where + what + message;
        }
    }
}
