package io.modelegress.core.config;

import com.typesafe.config.ConfigOrigin;
import com.typesafe.config.ConfigOriginFactory;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueFactory;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.api.lowlevel.Compose;
import org.snakeyaml.engine.v2.exceptions.Mark;
import org.snakeyaml.engine.v2.exceptions.MarkedYamlEngineException;
import org.snakeyaml.engine.v2.exceptions.YamlEngineException;
import org.snakeyaml.engine.v2.nodes.MappingNode;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.nodes.NodeTuple;
import org.snakeyaml.engine.v2.nodes.ScalarNode;
import org.snakeyaml.engine.v2.nodes.SequenceNode;
import org.snakeyaml.engine.v2.nodes.Tag;
import org.snakeyaml.engine.v2.schema.CoreSchema;

/**
 * Reads operator YAML (SnakeYAML Engine) into a Typesafe Config value tree whose every value carries its file and
 * line, so validation can say where a bad value was written. {@code ${VAR}} is substituted here, except in
 * {@code auth.value}, which stays a template so an unset credential fails per request, not at start-up.
 */
final class YamlConfigReader {
    private final String fileName;
    private final Function<String, String> env;
    private final List<InvalidConfigException.Problem> problems = new ArrayList<>();

    YamlConfigReader(String fileName, Function<String, String> env) {
        this.fileName = fileName;
        this.env = env;
    }

    /**
     * The root mapping, or an empty one for an empty document. Text that is not YAML (or not a mapping) throws;
     * problems inside a readable tree (unset variables, duplicate keys) are added to {@code found}, so they are
     * reported together with the rest.
     */
    Map<String, Object> read(String text, List<InvalidConfigException.Problem> found) throws InvalidConfigException {
        Optional<Node> root;
        try {
            root = new Compose(LoadSettings.builder().setLabel(fileName).setSchema(new CoreSchema()).build()).composeString(text);
        } catch (MarkedYamlEngineException e) {
            int line = e.getProblemMark().map(Mark::getLine).orElse(-1);
            throw new InvalidConfigException(List.of(new InvalidConfigException.Problem(
                    null, location(line), "not valid YAML: " + e.getProblem())));
        } catch (YamlEngineException e) {
            throw new InvalidConfigException(List.of(new InvalidConfigException.Problem(
                    null, fileName, "not valid YAML: " + e.getMessage())));
        }
        if (root.isEmpty()) return new LinkedHashMap<>();
        if (!(root.get() instanceof MappingNode)) {
            throw new InvalidConfigException(List.of(new InvalidConfigException.Problem(
                    null, location(line(root.get())), "expected a mapping of settings at the top level")));
        }
        Map<String, Object> out = mapping((MappingNode) root.get(), "");
        found.addAll(problems);
        return out;
    }

    private Map<String, Object> mapping(MappingNode node, String path) {
        Map<String, Object> out = new LinkedHashMap<>();
        for (NodeTuple t : node.getValue()) {
            if (!(t.getKeyNode() instanceof ScalarNode)) {
                problems.add(problem(path, t.getKeyNode(), "keys must be plain strings"));
                continue;
            }
            String key = ((ScalarNode) t.getKeyNode()).getValue();
            String childPath = path.isEmpty() ? key : path + "." + key;
            if (out.containsKey(key)) {
                problems.add(problem(childPath, t.getKeyNode(), "duplicate key"));
                continue;
            }
            out.put(key, convert(t.getValueNode(), childPath, line(t.getKeyNode())));
        }
        return out;
    }

    /** {@code line}: where the operator wrote it (the key's line for mapping values). */
    private ConfigValue convert(Node node, String path, int line) {
        ConfigOrigin origin = origin(line);
        if (node instanceof MappingNode) {
            return ConfigValueFactory.fromMap(mapping((MappingNode) node, path)).withOrigin(origin);
        }
        if (node instanceof SequenceNode) {
            List<Object> items = new ArrayList<>();
            int i = 0;
            for (Node item : ((SequenceNode) node).getValue()) items.add(convert(item, path + "[" + i++ + "]", line(item)));
            return ConfigValueFactory.fromIterable(items).withOrigin(origin);
        }
        ScalarNode scalar = (ScalarNode) node;
        return ConfigValueFactory.fromAnyRef(scalar(scalar, path), origin.description()).withOrigin(origin);
    }

    private Object scalar(ScalarNode node, String path) {
        String v = node.getValue();
        Tag tag = node.getTag();
        try {
            if (Tag.NULL.equals(tag)) return null;
            if (Tag.BOOL.equals(tag)) return Boolean.parseBoolean(v.toLowerCase());
            if (Tag.INT.equals(tag)) return Long.decode(v);
            if (Tag.FLOAT.equals(tag)) return Double.parseDouble(v);
        } catch (NumberFormatException e) {
            return v;
        }
        if (path.endsWith("auth.value")) return v;
        try {
            return EnvSubstitution.substitute(v, env);
        } catch (EnvSubstitution.MissingVariableException e) {
            problems.add(problem(path, node, e.getMessage() + " (write ${" + e.variable()
                    + ":-default} to give a default)"));
            return v;
        }
    }

    private InvalidConfigException.Problem problem(String key, Node node, String message) {
        return new InvalidConfigException.Problem(key, location(line(node)), message);
    }

    private static int line(Node node) {
        return node.getStartMark().map(Mark::getLine).orElse(-1);
    }

    private String location(int zeroBasedLine) {
        return zeroBasedLine < 0 ? fileName : fileName + ":" + (zeroBasedLine + 1);
    }

    private ConfigOrigin origin(int zeroBasedLine) {
        ConfigOrigin o = ConfigOriginFactory.newSimple(fileName);
        return zeroBasedLine < 0 ? o : o.withLineNumber(zeroBasedLine + 1);
    }
}
