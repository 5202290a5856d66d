package io.modelegress.core.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.modelegress.core.config.HostPort;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Reads the tables of docs/no-proxy.md and checks every example, so the page cannot drift from the code. */
class NoProxyDocTableTest {
    private static final Pattern CODE = Pattern.compile("`([^`]+)`");

    static List<String> readDoc() throws IOException {
        // Surefire runs in proxy-core/; the IDE may run from the repository root.
        for (Path p : List.of(Path.of("../docs/no-proxy.md"), Path.of("docs/no-proxy.md"))) {
            if (Files.exists(p)) return Files.readAllLines(p, StandardCharsets.UTF_8);
        }
        throw new IOException("docs/no-proxy.md not found from " + Path.of("").toAbsolutePath());
    }

    /** The body rows of the first table after {@code heading}, split into cells. */
    static List<String[]> table(String heading) throws IOException {
        List<String> lines = readDoc();
        int i = lines.indexOf(heading);
        assertTrue(i >= 0, "docs/no-proxy.md has no heading " + heading);
        while (!lines.get(i).startsWith("|")) i++;
        i += 2; // header and separator
        List<String[]> rows = new ArrayList<>();
        for (; i < lines.size() && lines.get(i).startsWith("|"); i++) {
            String line = lines.get(i).replace("\\|", "¦");
            rows.add(line.substring(1, line.length() - 1).split("\\|", -1));
        }
        return rows;
    }

    static List<String> code(String cell) {
        List<String> out = new ArrayList<>();
        Matcher m = CODE.matcher(cell);
        while (m.find()) out.add(m.group(1));
        return out;
    }

    static Stream<Arguments> entryFormExamples() throws IOException {
        List<Arguments> cases = new ArrayList<>();
        for (String[] row : table("## Entry forms")) {
            List<String> entries = row[0].contains("(built-in") ? List.of("") : code(row[0]);
            for (String entry : entries) {
                for (String target : code(row[2])) cases.add(Arguments.of(entry, target, true));
                for (String target : code(row[3])) cases.add(Arguments.of(entry, target, false));
            }
        }
        assertTrue(cases.size() > 50, "the entry table should have examples, found " + cases.size());
        return cases.stream();
    }

    @ParameterizedTest(name = "[{index}] NO_PROXY=\"{0}\": {1} direct={2}")
    @MethodSource("entryFormExamples")
    void everyExampleInTheEntryTableHolds(String entry, String target, boolean direct) {
        HostPort hostPort = HostPort.parse(target);
        String host = hostPort == null ? target : hostPort.host();
        int port = hostPort == null ? 443 : hostPort.port();
        NoProxy noProxy = NoProxy.builder().addValidated("NO_PROXY", entry).build();
        NoProxy.Match match = noProxy.match(host, port);
        if (direct) {
            assertNotNull(match, target + " should go direct with NO_PROXY=" + entry);
            if (!entry.isEmpty() && !match.isLoopbackRule()) assertEquals(entry, match.entry());
        } else {
            assertNull(match, target + " should use the proxy with NO_PROXY=" + entry);
        }
    }

    static Stream<String> refusedEntries() throws IOException {
        List<String> entries = new ArrayList<>();
        for (String[] row : table("## Entries that are refused")) entries.addAll(code(row[0]));
        assertTrue(entries.size() > 15, "the refused table should list entries, found " + entries.size());
        return entries.stream();
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @MethodSource("refusedEntries")
    void everyEntryInTheRefusedTableIsRefused(String entry) {
        assertThrows(IllegalArgumentException.class, () -> NoProxy.builder().addValidated("proxy.no_proxy", entry));
        assertEquals(1, NoProxy.builder().addBestEffort("NO_PROXY", entry).build().ignored().size(), entry);
    }

    @Test
    void proxyUrlDefaultPortsAreTheOnesTheDocLists() throws IOException {
        for (String[] row : table("## Proxy URLs")) {
            String scheme = code(row[0]).get(0);
            int port = Integer.parseInt(row[2].strip());
            assertEquals(port, ProxyUrl.parse(scheme + "://proxy.test").port(), scheme);
        }
    }
}
