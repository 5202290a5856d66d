package io.modelegress.server.server;

import io.modelegress.server.admin.AdminHandler;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.concurrent.CompletableFuture;
import io.modelegress.server.doctor.Doctor;

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
        m.put("/debug/doctor", q -> {
            List<String> route = q.parameters().get("route");
            EgressRuntime rt = runtime.get();
            return CompletableFuture.supplyAsync(() -> {
                try {
                    return new Doctor(rt.config(), env, rt.transport(), rt.timers()).check(route == null ? null : route.get(0)).json();
                } catch (Exception e) {
                    throw new IllegalStateException(e.getMessage(), e);
                }
            }, DOCTOR_THREADS);
        });
        return m;
    }

    /** Doctor blocks on each step: it gets its own threads, never an event loop. */
    private static final java.util.concurrent.ExecutorService DOCTOR_THREADS = java.util.concurrent.Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "egress-doctor");
        t.setDaemon(true);
        return t;
    });
}
