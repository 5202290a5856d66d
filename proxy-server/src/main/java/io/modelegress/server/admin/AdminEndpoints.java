package io.modelegress.server.admin;

import io.modelegress.server.runtime.EgressRuntime;
import io.modelegress.server.admin.AdminHandler;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import io.modelegress.core.config.RouteSettings;
import io.modelegress.server.doctor.Doctor;
import io.modelegress.server.doctor.DoctorRuns;

/** The /debug endpoints of the admin port. */
public final class AdminEndpoints {
    private AdminEndpoints() {}

    /** {@code doctor}: where /debug/doctor runs (one at a time, shared by concurrent callers). */
    public static Map<String, AdminHandler.AdminEndpoint> of(Supplier<EgressRuntime> runtime, Map<String, String> env, DoctorRuns doctor) {
        Map<String, AdminHandler.AdminEndpoint> m = new LinkedHashMap<>();
        m.put("/debug/proxy", q -> {
            List<String> url = q.parameters().get("url");
            if (url == null || url.isEmpty()) throw new IllegalArgumentException("missing ?url= (expected: /debug/proxy?url=https://api.openai.com)");
            return runtime.get().proxies().explainAsync(url.get(0)); // a PAC answers on its own thread
        });
        m.put("/debug/breakers", q -> BreakersView.of(runtime.get()));
        m.put("/debug/doctor", q -> {
            List<String> routeParam = q.parameters().get("route");
            String route = routeParam == null || routeParam.isEmpty() ? null : routeParam.get(0);
            EgressRuntime rt = runtime.get();
            if (route != null && rt.config().routes().stream().noneMatch(r -> r.name().equals(route))) {
                throw new IllegalArgumentException("no route named \"" + route + "\" (routes: "
                        + rt.config().routes().stream().map(RouteSettings::name).collect(Collectors.joining(", ")) + ")");
            }
            // Doctor blocks on each step: it runs on doctor's own thread, never an event loop.
            return doctor.run(route, () -> {
                try {
                    return new Doctor(rt.config(), env, rt.transport(), rt.timers()).check(route).json();
                } catch (Exception e) {
                    throw new IllegalStateException(e.getMessage(), e);
                }
            });
        });
        return m;
    }
}
