package io.modelegress.core.docs;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import io.modelegress.core.config.ConfigLoader;
import io.modelegress.core.error.ErrorCode;
import io.modelegress.core.route.AgentHeaders;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The operator tables must list every error code and every config key: docs that drift fail the build. */
class DocsCoverageTest {
    private static String doc(String name) throws Exception {
        return Files.readString(Path.of("..", "docs", name));
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
