package io.modelegress.core.config;

import java.util.LinkedHashSet;
import java.util.Set;

/**
 * Text that goes into an HTTP header line: a CR or LF would end the line and start a header of the sender's choice,
 * and NUL and the other control characters are refused or mangled by servers. Here the rule is plain: none of
 * U+0000 to U+001F or U+007F, tab included.
 */
public final class HeaderText {
    private HeaderText() {}

    /** Why {@code text} cannot go in a header ("CR, LF at character 9"), or null when it can. Never quotes the text. */
    public static String problem(String text) {
        if (text == null) return null;
        Set<String> found = new LinkedHashSet<>();
        int first = -1;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c < 0x20 || c == 0x7f) {
                if (first < 0) first = i;
                found.add(name(c));
            }
        }
        return first < 0 ? null : String.join(", ", found) + " at character " + (first + 1);
    }

    /** {@code text} with control characters written as escapes ({@code \r}, {@code \n}, {@code \x07}), for messages. */
    public static String printable(String text) {
        if (text == null) return null;
        StringBuilder b = new StringBuilder(text.length());
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '\r') b.append("\\r");
            else if (c == '\n') b.append("\\n");
            else if (c == '\t') b.append("\\t");
            else if (c < 0x20 || c == 0x7f) b.append(String.format("\\x%02x", (int) c));
            else b.append(c);
        }
        return b.toString();
    }

    private static String name(char c) {
        switch (c) {
            case '\r': return "CR";
            case '\n': return "LF";
            case '\t': return "TAB";
            case 0: return "NUL";
            default: return String.format("U+%04X", (int) c);
        }
    }
}
