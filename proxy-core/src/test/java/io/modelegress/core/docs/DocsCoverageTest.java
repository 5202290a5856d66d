package io.modelegress.core.docs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import io.modelegress.core.config.ConfigLoader;
import io.modelegress.core.config.InvalidConfigException;
import io.modelegress.core.error.ErrorCode;
import io.modelegress.core.route.AgentHeaders;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The operator tables must list every error code and every config key, with the default reference.conf gives it,
 * and the README the modules the build has: docs that drift fail the build.
 */
class DocsCoverageTest {
    private static final Path REPO = Path.of("..");

    /** Where the keys of each key/default table live in reference.conf, by the heading the table sits under. */
    private static final Map<String, Map<String, String>> TABLE_PREFIXES = Map.of(
            "configuration.md", Map.of("`server`", "", "`proxy`", "", "`tls`", "", "`dns`", "", "`retry`", "", "`cluster`", "",
                    "`upstreams.NAME`", "upstream_defaults.", "`routes[]`", "route_defaults."),
            "timeouts.md", Map.of("Timeouts", "timeouts.", "Agent-side protections (`server` block)", "",
                    "Connection pool (`upstreams.*.pool`)", "upstream_defaults."));

    /** Defaults the docs state in words because reference.conf cannot: they are derived from another key. */
    private static final Map<String, String> DERIVED_DEFAULTS = Map.of("route_defaults.name", "the prefix",
            "proxy.auth.spn", "`HTTP/<proxy host>`");

    private static String doc(String name) throws Exception {
        return Files.readString(REPO.resolve("docs").resolve(name));
    }

    private static Map<String, ConfigValue> referenceLeaves() {
        var ref = ConfigFactory.parseResources(ConfigLoader.class, "reference.conf", ConfigParseOptions.defaults());
        Map<String, ConfigValue> leaves = DocTables.referenceLeaves(ref.root());
        leaves.remove("upstreams"); // the operator's own entries: documented by upstream_defaults
        leaves.remove("routes");    // and by route_defaults
        return leaves;
    }

    private static List<DocTables.Row> documentedRows() throws Exception {
        List<DocTables.Row> rows = new ArrayList<>();
        for (var e : TABLE_PREFIXES.entrySet()) rows.addAll(DocTables.rows(e.getKey(), doc(e.getKey()), e.getValue()));
        return rows;
    }

    @Test
    void configurationTablesShowTheDefaultsOfReferenceConf() throws Exception {
        Map<String, ConfigValue> leaves = referenceLeaves();
        List<String> wrong = new ArrayList<>();
        List<DocTables.Row> rows = documentedRows();
        assertTrue(rows.size() >= leaves.size(), "read only " + rows.size() + " rows for " + leaves.size() + " keys");
        for (DocTables.Row row : rows) {
            String where = row.file() + " (" + row.heading() + ") `" + row.key() + "`";
            String shown = DocTables.normaliseCell(row.shownDefault());
            if (row.path().endsWith(".*")) {
                // A block of overrides: reference.conf leaves it empty, the docs say where its keys are inherited from.
                ConfigValue block = leaves.get(row.path().substring(0, row.path().length() - 2));
                if (block == null || block.valueType() != ConfigValueType.OBJECT) {
                    wrong.add(where + ": no empty block " + row.path() + " in reference.conf");
                } else if (!shown.equals("inherit") && !row.shownDefault().startsWith("the global")) {
                    wrong.add(where + ": shows " + row.shownDefault() + ", reference.conf: {} (inherit)");
                }
                continue;
            }
            ConfigValue ref = leaves.get(row.path());
            if (ref == null) {
                // A key inside a block reference.conf leaves null (upstream auth): documented, without a default.
                String parent = nullParent(row.path(), leaves);
                if (parent == null) wrong.add(where + ": " + row.path() + " is not in reference.conf");
                else if (!shown.equals("unset")) wrong.add(where + ": shows " + row.shownDefault() + ", but " + parent + " has no default");
                continue;
            }
            String expected = DocTables.normalise(ref);
            if (DERIVED_DEFAULTS.containsKey(row.path())) {
                if (!row.shownDefault().equals(DERIVED_DEFAULTS.get(row.path())) || !expected.equals("unset")) {
                    wrong.add(where + ": shows " + row.shownDefault() + ", reference.conf: " + ref.render());
                }
            } else if (row.shownDefault().equals("required")) {
                if (!expected.equals("unset") && !expected.equals("[]")) wrong.add(where + ": required, but reference.conf gives " + ref.render());
            } else if (!DocTables.sameValue(expected, shown)) {
                wrong.add(where + ": shows " + row.shownDefault() + ", reference.conf: " + ref.render());
            }
        }
        assertTrue(wrong.isEmpty(), "the docs' defaults disagree with reference.conf:\n" + String.join("\n", wrong));
    }

    @Test
    void everyKeyOfReferenceConfHasATableRowWithItsDefault() throws Exception {
        List<String> paths = documentedRows().stream().map(DocTables.Row::path).collect(Collectors.toList());
        List<String> missing = new ArrayList<>();
        for (String leaf : referenceLeaves().keySet()) {
            boolean covered = paths.stream().anyMatch(p -> p.equals(leaf) || p.startsWith(leaf + ".")
                    || p.equals(leaf + ".*"));
            if (!covered) missing.add(leaf);
        }
        assertTrue(missing.isEmpty(), "no key/default row in docs/configuration.md or docs/timeouts.md for " + missing);
    }

    private static String nullParent(String path, Map<String, ConfigValue> leaves) {
        for (int dot = path.lastIndexOf('.'); dot > 0; dot = path.lastIndexOf('.', dot - 1)) {
            ConfigValue v = leaves.get(path.substring(0, dot));
            if (v != null) return v.valueType() == ConfigValueType.NULL ? path.substring(0, dot) : null;
        }
        return null;
    }

    @Test
    void readmeListsTheModulesOfTheParentPom() throws Exception {
        Set<String> pom = new TreeSet<>();
        Matcher m = Pattern.compile("<module>([^<]+)</module>").matcher(Files.readString(REPO.resolve("pom.xml")));
        while (m.find()) pom.add(m.group(1).trim());
        String readme = Files.readString(REPO.resolve("README.md"));
        int at = readme.indexOf("Modules");
        assertTrue(at >= 0, "README.md has no \"Modules\" sentence");
        String paragraph = readme.substring(at, readme.indexOf("\n\n", at) < 0 ? readme.length() : readme.indexOf("\n\n", at));
        Set<String> listed = new TreeSet<>();
        Matcher l = Pattern.compile("`([a-z][a-z0-9-]*)` \\(").matcher(paragraph);
        while (l.find()) listed.add(l.group(1));
        assertEquals(pom, listed, "README.md's module list against pom.xml's <modules>");
    }

    @Test
    void nothingCitesAContractFileTheRepositoryDoesNotHave() throws Exception {
        if (Files.exists(REPO.resolve("CONTRACT.md"))) return;
        List<String> citing;
        try (Stream<Path> files = Files.walk(REPO)) {
            citing = files.filter(Files::isRegularFile)
                    .filter(f -> !f.toString().contains("/target/") && !f.toString().contains("/.git/") && !f.toString().contains("/node_modules/"))
                    .filter(f -> f.toString().matches(".*\\.(java|md|ya?ml|conf|xml|sh|json|properties)$"))
                    .filter(f -> !f.endsWith(Path.of("proxy-core/src/test/java/io/modelegress/core/docs/DocsCoverageTest.java")))
                    .filter(f -> {
                        try {
                            return Files.readString(f).contains("CONTRACT.md");
                        } catch (Exception e) {
                            return false;
                        }
                    })
                    .map(f -> REPO.relativize(f).toString()).sorted().collect(Collectors.toList());
        }
        assertTrue(citing.isEmpty(), "CONTRACT.md is not in the repository (docs/ is the contract), yet cited by " + citing);
    }

    @Test
    void operatorFilesDescribeWhatTheBuildDoesNotWhatIsPlanned() throws Exception {
        List<Path> files = new ArrayList<>(List.of(REPO.resolve("README.md"),
                REPO.resolve("proxy-core/src/main/resources/io/modelegress/core/config/reference.conf")));
        for (String dir : new String[] {"docs", "config", "deploy/k8s"}) {
            try (Stream<Path> s = Files.walk(REPO.resolve(dir))) {
                s.filter(Files::isRegularFile).forEach(files::add);
            }
        }
        Pattern stale = Pattern.compile("(?i)\\b(planned|reserved for|not implemented)\\b");
        List<String> found = new ArrayList<>();
        for (Path f : files) {
            String[] lines = Files.readString(f).split("\n");
            for (int i = 0; i < lines.length; i++) {
                if (stale.matcher(lines[i]).find()) found.add(REPO.relativize(f) + ":" + (i + 1) + ": " + lines[i].trim());
            }
        }
        assertTrue(found.isEmpty(), "operator files call something planned or reserved (implemented, or an issue, "
                + "not a promise in the docs):\n" + String.join("\n", found));
    }

    @Test
    void adminRowAndReadmeNameEveryAdminEndpoint() throws Exception {
        Path admin = REPO.resolve("proxy-server/src/main/java/io/modelegress/server/admin");
        Set<String> endpoints = new TreeSet<>();
        Pattern served = Pattern.compile("(?:case|\\.put\\()\\s*\"(/[a-z/]+)\"");
        try (Stream<Path> s = Files.list(admin)) {
            for (Path f : s.filter(p -> p.toString().endsWith(".java")).collect(Collectors.toList())) {
                Matcher m = served.matcher(Files.readString(f));
                while (m.find()) endpoints.add(m.group(1));
            }
        }
        assertTrue(endpoints.contains("/metrics"), "found no admin endpoints in " + admin + ": " + endpoints);
        String row = doc("configuration.md").lines().filter(l -> l.startsWith("| `server.admin` |")).findFirst().orElse("");
        String readmeText = Files.readString(REPO.resolve("README.md"));
        int at = readmeText.indexOf("Admin port:");
        String readme = at < 0 ? "" : readmeText.substring(at, readmeText.indexOf("\n\n", at) < 0 ? readmeText.length() : readmeText.indexOf("\n\n", at));
        List<String> missing = new ArrayList<>();
        for (String e : endpoints) {
            if (!row.contains("`" + e)) missing.add("docs/configuration.md server.admin: " + e);
            if (!readme.contains("`" + e)) missing.add("README.md Admin port: " + e);
        }
        assertTrue(missing.isEmpty(), "admin endpoints served but not listed: " + missing);
    }

    @Test
    void retryOnRowSaysWhatTheLoaderAcceptsAndRefuses() throws Exception {
        String yaml = "upstreams:\n  a:\n    url: http://127.0.0.1:1\nroutes:\n  - prefix: /v1\n    upstreams: [a]\n";
        // What the rows below promise: retry_on refuses 4xx (the same request gets the same answer); fallback_on takes it.
        assertThrows(InvalidConfigException.class, () -> ConfigLoader.parse(yaml + "retry:\n  retry_on: [4xx]\n", "t.yaml", k -> null));
        ConfigLoader.parse(yaml + "retry:\n  retry_on: [408, 429, 5xx, timeout]\n", "t.yaml", k -> null);
        ConfigLoader.parse(yaml.replace("upstreams: [a]", "upstreams: [a]\n    fallback_on: [4xx]"), "t.yaml", k -> null);
        String doc = doc("configuration.md");
        String retryOn = doc.lines().filter(l -> l.startsWith("| `retry.retry_on` |")).findFirst().orElse("");
        String fallbackOn = doc.lines().filter(l -> l.startsWith("| `fallback_on` |")).findFirst().orElse("");
        for (String token : new String[] {"connect_failure", "reset", "timeout", "5xx", "408", "429", "4xx"}) {
            assertTrue(retryOn.contains("`" + token + "`"), "retry.retry_on row does not mention `" + token + "`: " + retryOn);
        }
        assertTrue(retryOn.contains("refused"), "retry.retry_on row must say 4xx is refused: " + retryOn);
        for (String token : new String[] {"connect_failure", "reset", "timeout", "4xx", "5xx", "context_length_exceeded"}) {
            assertTrue(fallbackOn.contains("`" + token + "`"), "fallback_on row does not mention `" + token + "`: " + fallbackOn);
        }
    }

    @Test
    void errorsDocListsEveryCode() throws Exception {
        String doc = doc("errors.md");
        List<String> missing = new ArrayList<>();
        for (ErrorCode c : ErrorCode.values()) {
            if (!doc.contains("| `" + c.code() + "` | " + c.status())) missing.add(c.code() + " " + c.status());
        }
        assertTrue(missing.isEmpty(), "docs/errors.md lacks rows for " + missing);
    }

    @Test
    void configurationDocListsEveryKey() throws Exception {
        String doc = doc("configuration.md") + doc("timeouts.md");
        var ref = ConfigFactory.parseResources(ConfigLoader.class, "reference.conf", ConfigParseOptions.defaults());
        List<String> missing = new ArrayList<>();
        ref.root().withOnlyKey("server").toConfig().entrySet().forEach(e -> check(doc, e.getKey(), missing));
        for (String block : new String[] {"proxy", "tls", "dns", "retry"}) {
            ref.getConfig(block).root().keySet().forEach(k -> {
                if (!doc.contains("`" + block + "." + k)) missing.add(block + "." + k);
            });
        }
        ref.getConfig("cluster").entrySet().forEach(e -> {
            if (!doc.contains("`cluster." + e.getKey() + "`")) missing.add("cluster." + e.getKey());
        });
        ref.getConfig("upstream_defaults.limits").root().keySet().forEach(k -> {
            if (!doc.contains("`limits." + k + "`")) missing.add("limits." + k);
        });
        ref.getConfig("timeouts").root().keySet().forEach(k -> check(doc, k, missing));
        ref.getConfig("upstream_defaults").root().keySet().forEach(k -> check(doc, k, missing));
        ref.getConfig("route_defaults").root().keySet().forEach(k -> check(doc, k, missing));
        assertTrue(missing.isEmpty(), "docs/configuration.md lacks " + missing);
    }

    @Test
    void configurationDocListsEveryAgentHeaderTheSidecarStrips() throws Exception {
        String doc = doc("configuration.md");
        List<String> missing = new ArrayList<>();
        for (String h : AgentHeaders.CREDENTIALS) if (!doc.contains("`" + h + "`")) missing.add(h);
        for (String h : AgentHeaders.ALWAYS) if (!doc.contains("`" + h + "`")) missing.add(h);
        assertTrue(missing.isEmpty(), "docs/configuration.md (Agent headers) lacks " + missing);
    }

    private static void check(String doc, String key, List<String> missing) {
        if (!doc.contains("`" + key)) missing.add(key);
    }
}
