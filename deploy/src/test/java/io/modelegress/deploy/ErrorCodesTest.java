package io.modelegress.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** Error codes named by the alert rules and the operations guide are the catalogue's (proxy-core's ErrorCode). */
class ErrorCodesTest {
    private static final Pattern ENUM_CONSTANT = Pattern.compile("^\\s*[A-Z_]+\\(\"([a-z_]+)\",\\s*\\d{3},", Pattern.MULTILINE);
    private static final Pattern CODE_MATCHER = Pattern.compile("\\bcode\\s*(=~|!~|=|!=)\\s*\"([^\"]*)\"");

    static Set<String> catalogue() {
        String source = DeployFiles.read(DeployFiles.repoRoot().resolve("proxy-core/src/main/java/io/modelegress/core/error/ErrorCode.java"));
        Set<String> codes = new TreeSet<>();
        Matcher m = ENUM_CONSTANT.matcher(source);
        while (m.find()) codes.add(m.group(1));
        assertTrue(codes.size() >= 19, "read only " + codes + " from ErrorCode.java: has its shape changed?");
        return codes;
    }

    @Test
    void alertRulesMatchOnlyCatalogueCodes() {
        String alerts = DeployFiles.read(DeployFiles.deployDir().resolve("observability/alerts.yaml"));
        Set<String> named = new TreeSet<>();
        Matcher m = CODE_MATCHER.matcher(alerts);
        while (m.find()) {
            for (String c : m.group(2).split("\\|")) named.add(c);
        }
        assertTrue(named.contains("upstream_unavailable") && named.contains("rate_limited"), "expected code matchers in alerts.yaml: " + named);
        named.removeAll(catalogue());
        assertEquals(Set.of(), named, "alerts.yaml matches codes the sidecar never sends: the rule would never fire");
    }

    @Test
    void operationsGuideHasATroubleshootingRowForEveryCode() {
        String guide = DeployFiles.read(DeployFiles.repoRoot().resolve("docs/operations.md"));
        Set<String> missing = new TreeSet<>();
        for (String code : catalogue()) {
            if (!Pattern.compile("(?m)^\\| [^|\\n]*`" + code + "`").matcher(guide).find()) missing.add(code);
        }
        assertEquals(Set.of(), missing, "docs/operations.md: no troubleshooting row for these codes");
    }
}
