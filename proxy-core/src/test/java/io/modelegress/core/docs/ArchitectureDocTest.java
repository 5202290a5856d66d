package io.modelegress.core.docs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * docs/architecture.md names classes and methods of both modules: it must keep naming ones that exist, its walk must
 * stay short, its state diagram must have the attempt's states, and what it says about package imports must hold.
 */
class ArchitectureDocTest {
    private static final Path REPO = Path.of("..");
    private static final Path SERVER = REPO.resolve("proxy-server/src/main/java/io/modelegress/server");
    private static final Path CORE = REPO.resolve("proxy-core/src/main/java/io/modelegress/core");

    private static String doc;
    /** Every main source file of both modules, by path. */
    private static Map<Path, String> sources;

    @BeforeAll
    static void read() throws Exception {
        doc = Files.readString(REPO.resolve("docs/architecture.md"));
        sources = new TreeMap<>();
        for (Path root : List.of(SERVER, CORE)) {
            try (Stream<Path> s = Files.walk(root)) {
                for (Path f : s.filter(p -> p.toString().endsWith(".java")).collect(Collectors.toList())) {
                    sources.put(f, Files.readString(f));
                }
            }
        }
    }

    @Test
    void everyClassDotMemberItNamesExists() {
        Matcher m = Pattern.compile("`((?:[A-Z][A-Za-z0-9]*\\.)+)([a-z][A-Za-z0-9]*)`").matcher(doc);
        Set<String> wrong = new TreeSet<>();
        int checked = 0;
        while (m.find()) {
            String outer = m.group(1).substring(0, m.group(1).indexOf('.'));
            String member = m.group(2);
            List<String> declaring = sourcesOf(outer);
            checked++;
            if (declaring.isEmpty()) wrong.add(m.group() + ": no class " + outer);
            else if (declaring.stream().noneMatch(s -> declares(s, member))) wrong.add(m.group() + ": " + outer + " has no " + member);
        }
        assertTrue(checked > 40, "found only " + checked + " Class.member names in docs/architecture.md");
        assertTrue(wrong.isEmpty(), "docs/architecture.md names what the code does not have: " + wrong);
    }

    @Test
    void theWalkIsNumberedFileToMethodHopsAndAtMostFifteen() {
        Pattern hop = Pattern.compile("(?m)^(\\d+)\\. `([a-z]+/[A-Za-z]+\\.java)` → (.*?):");
        Matcher m = hop.matcher(doc);
        List<String> wrong = new ArrayList<>();
        int n = 0;
        while (m.find()) {
            n++;
            assertEquals(n, Integer.parseInt(m.group(1)), "hops are numbered in order");
            String source = sources.get(SERVER.resolve(m.group(2)));
            if (source == null) {
                wrong.add(m.group(2) + ": no such file under proxy-server");
                continue;
            }
            Matcher methods = Pattern.compile("`(?:[A-Za-z]+\\.)?([a-z][A-Za-z0-9]*)`").matcher(m.group(3));
            while (methods.find()) {
                if (!declares(source, methods.group(1))) wrong.add(m.group(2) + " has no method " + methods.group(1));
            }
        }
        assertTrue(n >= 10 && n <= 15, "the walk has " + n + " hops (expected: about 15 at most)");
        assertTrue(wrong.isEmpty(), "the walk names methods that do not exist: " + wrong);
    }

    @Test
    void stateDiagramHasExactlyTheAttemptsStates() {
        String attempt = sources.get(SERVER.resolve("upstream/UpstreamAttempt.java"));
        Matcher e = Pattern.compile("enum State \\{([^}]*)}").matcher(attempt);
        assertTrue(e.find(), "UpstreamAttempt.State not found");
        Set<String> states = new TreeSet<>();
        for (String s : e.group(1).split(",")) states.add(s.trim());
        int at = doc.indexOf("```mermaid\nstateDiagram-v2");
        assertTrue(at >= 0, "no mermaid stateDiagram-v2 block");
        String diagram = doc.substring(at, doc.indexOf("```", at + 3));
        Set<String> drawn = new LinkedHashSet<>();
        Matcher t = Pattern.compile("(?m)^\\s+(\\[\\*]|[A-Z_]+) --> (\\[\\*]|[A-Z_]+)").matcher(diagram);
        while (t.find()) {
            drawn.add(t.group(1));
            drawn.add(t.group(2));
        }
        drawn.remove("[*]");
        assertEquals(states, new TreeSet<>(drawn), "the diagram's states against UpstreamAttempt.State");
    }

    @Test
    void upstreamNeverImportsDownstream() {
        List<String> offenders = sources.entrySet().stream()
                .filter(e -> e.getKey().startsWith(SERVER.resolve("upstream")))
                .filter(e -> e.getValue().contains("import io.modelegress.server.downstream."))
                .map(e -> e.getKey().getFileName().toString()).collect(Collectors.toList());
        assertTrue(offenders.isEmpty(), "docs/architecture.md says upstream never imports downstream; these do: " + offenders);
    }

    @Test
    void readmeLinksTheArchitecture() throws Exception {
        assertTrue(Files.readString(REPO.resolve("README.md")).contains("(docs/architecture.md)"),
                "README.md does not link docs/architecture.md");
    }

    /** The sources declaring a type named {@code name}: its own file, or the files it is nested in. */
    private static List<String> sourcesOf(String name) {
        for (Map.Entry<Path, String> e : sources.entrySet()) {
            if (e.getKey().getFileName().toString().equals(name + ".java")) return List.of(e.getValue());
        }
        Pattern nested = Pattern.compile("\\b(class|interface|record|enum) " + name + "\\b");
        return sources.values().stream().filter(s -> nested.matcher(s).find()).collect(Collectors.toList());
    }

    /** A method ({@code name(}) or a field ({@code name;}, {@code name =}) of that name. */
    private static boolean declares(String source, String name) {
        return Pattern.compile("\\b" + name + "\\s*(\\(|;|=[^=])").matcher(source).find();
    }
}
