package io.modelegress.core.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigList;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigOrigin;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueFactory;
import com.typesafe.config.ConfigValueType;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The one place a config is read: operator YAML layered over reference.conf, validated as a whole, mapped into
 * immutable records. Nothing past this class sees a raw {@link Config}.
 */
public final class ConfigLoader {
    public static final String EMBEDDED_DEFAULT = "embedded default config";

    private static final Config REFERENCE = ConfigFactory.parseResources(ConfigLoader.class, "reference.conf",
            ConfigParseOptions.defaults().setAllowMissing(false)).resolve();

    private ConfigLoader() {}

    public static EgressConfig load(Path file, Function<String, String> env) throws InvalidConfigException {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw single(file.toString(), "config file not found");
        } catch (IOException e) {
            throw single(file.toString(), "cannot read config file (" + e.getMessage() + ")");
        }
        return parse(text, file.toString(), env);
    }

    public static EgressConfig loadDefault(Function<String, String> env) throws InvalidConfigException {
        try (InputStream in = ConfigLoader.class.getResourceAsStream("default.yaml")) {
            return parse(new String(in.readAllBytes(), StandardCharsets.UTF_8), EMBEDDED_DEFAULT, env);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Parses YAML text; {@code source} names it in messages (a file path, or a description). Every problem found is
     * reported in one exception: YAML-level ones (unset variables, duplicate keys), unknown keys and wrong shapes, and
     * what the mapper finds, because the schema check hands the mapper a tree without the values it reported.
     */
    public static EgressConfig parse(String yaml, String source, Function<String, String> env) throws InvalidConfigException {
        List<InvalidConfigException.Problem> problems = new ArrayList<>();
        Map<String, Object> user = new YamlConfigReader(source, env).read(yaml, problems);
        Map<String, Object> checked = new ConfigSchema(REFERENCE.root(), problems).checkRoot(user);
        int early = problems.size();

        Config merged;
        try {
            merged = ConfigValueFactory.fromMap(checked).toConfig().withFallback(REFERENCE);
        } catch (RuntimeException e) {
            problems.add(new InvalidConfigException.Problem(null, source, "cannot merge over the reference config: " + e.getMessage()));
            throw new InvalidConfigException(problems);
        }
        Section root = new Section(merged, "", problems);
        EgressConfig cfg;
        try {
            cfg = new ConfigMapper(root, env, REFERENCE).map(source);
        } catch (ConfigException e) {
            // A shape the schema check does not know yet: still a config problem with file:line, never a stack trace.
            problems.add(new InvalidConfigException.Problem(null, location(e.origin()), withoutOrigin(e)
                    + " (expected: the shapes in docs/configuration.md)"));
            cfg = null;
        }
        if (!problems.isEmpty()) throw new InvalidConfigException(firstPerKey(problems, early));
        return cfg;
    }

    /** A key the reader or the schema check already reported (left as written, or out) is not reported again by the mapper. */
    private static List<InvalidConfigException.Problem> firstPerKey(List<InvalidConfigException.Problem> all, int early) {
        java.util.Set<String> reported = new java.util.HashSet<>();
        for (InvalidConfigException.Problem p : all.subList(0, early)) if (p.key() != null) reported.add(p.key());
        List<InvalidConfigException.Problem> out = new ArrayList<>(all.subList(0, early));
        for (InvalidConfigException.Problem p : all.subList(early, all.size())) {
            if (p.key() == null || !reported.contains(p.key())) out.add(p);
        }
        return out;
    }

    private static String withoutOrigin(ConfigException e) {
        String m = e.getMessage();
        String prefix = e.origin() == null ? null : e.origin().description() + ": ";
        return prefix != null && m.startsWith(prefix) ? m.substring(prefix.length()) : m;
    }

    /** "file:line" for an origin (or the description alone when no line is known). */
    static String location(ConfigOrigin origin) {
        if (origin == null) return "";
        String d = origin.description();
        int line = origin.lineNumber();
        String suffix = ": " + line;
        if (line > 0 && d.endsWith(suffix)) d = d.substring(0, d.length() - suffix.length());
        if (d.startsWith("merge of ")) d = d.substring("merge of ".length());
        int comma = d.indexOf(',');
        if (comma > 0) d = d.substring(0, comma);
        if (line <= 0) {
            // A merged origin keeps the first part's line only in its description: "egress.yaml: 6".
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("(.*): (\\d+)$").matcher(d);
            if (m.matches()) return m.group(1) + ":" + m.group(2);
        }
        return line > 0 ? d + ":" + line : d;
    }

    private static InvalidConfigException single(String location, String message) {
        return new InvalidConfigException(List.of(new InvalidConfigException.Problem(null, location, message)));
    }

    /** Upstream/route entries as configs with their template underneath (keys are names, never parsed as paths). */
    static Map<String, Config> entries(ConfigObject obj, Config template) {
        Map<String, Config> out = new LinkedHashMap<>();
        for (Map.Entry<String, ConfigValue> e : obj.entrySet()) {
            out.put(e.getKey(), e.getValue().valueType() == ConfigValueType.OBJECT
                    ? ((ConfigObject) e.getValue()).toConfig().withFallback(template) : null);
        }
        return out;
    }

    static List<ConfigValue> list(Config c, String key) {
        if (!c.hasPath(key)) return List.of();
        ConfigValue v = c.getValue(key);
        return v instanceof ConfigList ? new ArrayList<>((ConfigList) v) : List.of(v);
    }
}
