package io.modelegress.core.config;

import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** {@code ${VAR}} and {@code ${VAR:-default}} in config strings, like a shell. */
public final class EnvSubstitution {
    private static final Pattern VAR = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)(:-([^}]*))?}");

    private EnvSubstitution() {}

    /** Thrown when a variable without a default is unset or empty. */
    public static final class MissingVariableException extends Exception {
        private static final long serialVersionUID = 1L;
        private final String variable;

        MissingVariableException(String variable) {
            super("environment variable " + variable + " is not set", null, false, false);
            this.variable = variable;
        }

        public String variable() { return variable; }
    }

    public static boolean hasVariables(String s) {
        return s != null && VAR.matcher(s).find();
    }

    /** The variable names a string refers to, in order. */
    public static java.util.List<String> variables(String s) {
        java.util.List<String> out = new java.util.ArrayList<>();
        if (s == null) return out;
        Matcher m = VAR.matcher(s);
        while (m.find()) out.add(m.group(1));
        return out;
    }

    public static String substitute(String s, Function<String, String> env) throws MissingVariableException {
        if (s == null || s.indexOf("${") < 0) return s;
        Matcher m = VAR.matcher(s);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String value = env.apply(m.group(1));
            if (value == null || value.isEmpty()) {
                if (m.group(2) == null) throw new MissingVariableException(m.group(1));
                value = m.group(3);
            }
            m.appendReplacement(out, Matcher.quoteReplacement(value));
        }
        m.appendTail(out);
        return out.toString();
    }
}
