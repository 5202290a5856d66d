package io.modelegress.server.server;

import io.modelegress.server.admin.AdminHandler;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/** The /debug endpoints of the admin port. */
final class AdminEndpoints {
    private AdminEndpoints() {}

    static Map<String, AdminHandler.AdminEndpoint> of(Supplier<EgressRuntime> runtime, Map<String, String> env) {
        Map<String, AdminHandler.AdminEndpoint> m = new LinkedHashMap<>();
        m.put("/debug/proxy", q -> {
            List<String> url = q.parameters().get("url");
            if (url == null || url.isEmpty()) throw new IllegalArgumentException("missing ?url= (expected: /debug/proxy?url=https://api.openai.com)");
            return runtime.get().proxies().explain(url.get(0));
        });
        return m;
    }
}
