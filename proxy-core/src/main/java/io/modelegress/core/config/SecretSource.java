package io.modelegress.core.config;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Function;

/**
 * Where a credential comes from: a template with {@code ${VAR}} (resolved once at load) or a file (a Kubernetes
 * secret mount, re-read by {@link #refresh()} off the event loop). A missing value is not a start-up error:
 * {@link #current()} says what to set, and requests on the route are answered with {@code credential_missing}.
 * Every resolved value is checked here, the one place values come from: one with a control character (a CR or LF
 * would add a header upstream) is never handed out; {@link Resolved#invalid()} is set and requests are answered with
 * {@code credential_invalid}. {@link #toString()} never shows the value.
 */
public final class SecretSource {
    /** The value now, or why there is none. Exactly one of the two is non-null; {@code invalid}: there is one, unusable. */
    public record Resolved(String value, String missingReason, boolean invalid) {
        public Resolved(String value, String missingReason) {
            this(value, missingReason, false);
        }

        public boolean present() { return value != null; }

        @Override public String toString() {
            return present() ? "<redacted>" : (invalid ? "invalid (" : "missing (") + missingReason + ")";
        }
    }

    private final String template;
    private final Path file;
    private volatile Resolved current;

    private SecretSource(String template, Path file, Resolved current) {
        this.template = template;
        this.file = file;
        this.current = current;
    }

    public static SecretSource ofTemplate(String template, Function<String, String> env) {
        Resolved r;
        try {
            r = checked(EnvSubstitution.substitute(template, env), null, template);
        } catch (EnvSubstitution.MissingVariableException e) {
            r = new Resolved(null, "set the environment variable " + e.variable());
        }
        return new SecretSource(template, null, r);
    }

    public static SecretSource ofFile(Path file) {
        SecretSource s = new SecretSource(null, file, new Resolved(null, "credential file " + file + " not read yet"));
        s.refresh();
        return s;
    }

    public Resolved current() { return current; }

    /** The file behind this secret, or null when it comes from a template. */
    public Path file() { return file; }

    /** Where the value comes from, for /config and messages (never the value). */
    public String describe() {
        return file != null ? "value_file " + file : "value " + redactedTemplate(template);
    }

    /** Names the variables a template uses; literal text (which may be a secret) is never shown. */
    private static String redactedTemplate(String template) {
        java.util.List<String> vars = EnvSubstitution.variables(template);
        return vars.isEmpty() ? "<redacted literal>" : "from ${" + String.join("}, ${", vars) + "}";
    }

    /** {@code value} as resolved from {@code file} or {@code template}: usable, or invalid with where it came from. */
    private static Resolved checked(String value, Path file, String template) {
        String why = HeaderText.problem(value);
        if (why == null) return new Resolved(value, null);
        String source = file != null ? "the credential file " + file
                : EnvSubstitution.variables(template).isEmpty() ? "the literal value"
                : "the value " + redactedTemplate(template);
        return new Resolved(null, source + " contains a control character (" + why + "); a header value must be one line"
                + " of printable text" + (file != null ? " (one trailing newline is fine)" : ""), true);
    }

    /**
     * Re-reads a file secret (blocking I/O: call from a background thread). Compares contents, not timestamps, so a
     * same-size rewrite within one clock tick is still seen. True when the value changed. Surrounding whitespace
     * (the trailing newline editors add) is trimmed; what is left is checked like any other value.
     */
    public boolean refresh() {
        if (file == null) return false;
        Resolved next;
        try {
            String v = Files.readString(file, StandardCharsets.UTF_8).strip();
            next = v.isEmpty() ? new Resolved(null, "credential file " + file + " is empty") : checked(v, file, null);
        } catch (IOException e) {
            next = new Resolved(null, "cannot read credential file " + file + " (" + e.getClass().getSimpleName() + ")");
        }
        Resolved before = current;
        if (java.util.Objects.equals(before.value(), next.value())
                && java.util.Objects.equals(before.missingReason(), next.missingReason())) {
            return false;
        }
        current = next;
        return true;
    }

    @Override
    public String toString() { return describe(); }
}
