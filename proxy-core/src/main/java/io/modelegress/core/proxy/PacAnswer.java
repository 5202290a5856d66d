package io.modelegress.core.proxy;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * What {@code FindProxyForURL} returned, parsed: {@code "PROXY a:3128; HTTPS b:443; SOCKS5 c:1080; DIRECT"} becomes
 * an ordered failover list. Entries we cannot use are skipped and named in {@link #ignored()}; an answer with no
 * usable entry is DIRECT, as browsers treat an empty answer.
 */
public record PacAnswer(String text, List<ProxyStep> steps, List<String> ignored) {
    public PacAnswer {
        steps = List.copyOf(steps);
        ignored = List.copyOf(ignored);
    }

    public static PacAnswer parse(String answer) {
        String text = answer == null ? "" : answer.strip();
        List<ProxyStep> steps = new ArrayList<>();
        List<String> ignored = new ArrayList<>();
        for (String raw : text.split(";")) {
            String entry = raw.strip();
            if (entry.isEmpty()) continue;
            String[] parts = entry.split("\\s+");
            String kind = parts[0].toUpperCase(Locale.ROOT);
            String source = "PAC \"" + entry + "\"";
            if (kind.equals("DIRECT") && parts.length == 1) {
                steps.add(ProxyStep.direct(source));
                continue;
            }
            String scheme = switch (kind) {
                case "PROXY", "HTTP" -> "http";
                case "HTTPS" -> "https";
                case "SOCKS", "SOCKS5" -> "socks5"; // SOCKS4 is not spoken; SOCKS5 servers answer SOCKS
                default -> null;
            };
            if (scheme == null || parts.length != 2) {
                ignored.add("\"" + entry + "\" (expected: DIRECT, PROXY host:port, HTTPS host:port or SOCKS5 host:port)");
                continue;
            }
            try {
                steps.add(new ProxyStep(ProxyUrl.parse(scheme + "://" + parts[1]), source));
            } catch (IllegalArgumentException e) {
                ignored.add("\"" + entry + "\" (" + e.getMessage() + ")");
            }
        }
        if (steps.isEmpty()) steps.add(ProxyStep.direct(text.isEmpty() ? "PAC empty answer" : "PAC no usable entry"));
        return new PacAnswer(text, steps, ignored);
    }
}
