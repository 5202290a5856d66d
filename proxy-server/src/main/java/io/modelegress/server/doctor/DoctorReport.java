package io.modelegress.server.doctor;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** What doctor found, per upstream and step; rendered as a table for people and as JSON for scripts. */
public final class DoctorReport {
    public enum Status { OK, WARN, FAIL, SKIP }

    public record Step(String name, Status status, long millis, String detail) {}

    /** One upstream's path, step by step; {@code hint} says what to do about the first failing step. */
    public static final class UpstreamCheck {
        public final String name;
        public final String url;
        public final List<String> routes;
        public final List<Step> steps = new ArrayList<>();
        public String hint;

        public UpstreamCheck(String name, String url, List<String> routes) {
            this.name = name;
            this.url = url;
            this.routes = routes;
        }

        public boolean ok() { return steps.stream().noneMatch(s -> s.status() == Status.FAIL); }

        Step add(String step, Status status, long millis, String detail) {
            Step s = new Step(step, status, millis, detail);
            steps.add(s);
            return s;
        }
    }

    public final List<UpstreamCheck> upstreams = new ArrayList<>();

    public boolean ok() { return upstreams.stream().allMatch(UpstreamCheck::ok); }

    public String table() {
        StringBuilder b = new StringBuilder();
        for (UpstreamCheck u : upstreams) {
            b.append("upstream ").append(u.name).append("  ").append(u.url).append("  (routes: ")
                    .append(String.join(", ", u.routes)).append(")\n");
            b.append(String.format(Locale.ROOT, "  %-8s %-5s %8s  %s%n", "step", "", "time", "detail"));
            for (Step s : u.steps) {
                b.append(String.format(Locale.ROOT, "  %-8s %-5s %6dms  %s%n", s.name(), s.status().name().toLowerCase(Locale.ROOT),
                        s.millis(), s.detail()));
            }
            if (u.hint != null) b.append("  hint: ").append(u.hint).append('\n');
            b.append('\n');
        }
        b.append(ok() ? "all checks passed\n" : "some checks failed\n");
        return b.toString();
    }

    public Map<String, Object> json() {
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("ok", ok());
        List<Object> ups = new ArrayList<>();
        for (UpstreamCheck u : upstreams) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("upstream", u.name);
            m.put("url", u.url);
            m.put("routes", u.routes);
            m.put("ok", u.ok());
            List<Object> steps = new ArrayList<>();
            for (Step s : u.steps) {
                Map<String, Object> sm = new LinkedHashMap<>();
                sm.put("step", s.name());
                sm.put("status", s.status().name().toLowerCase(Locale.ROOT));
                sm.put("ms", s.millis());
                sm.put("detail", s.detail());
                steps.add(sm);
            }
            m.put("steps", steps);
            m.put("hint", u.hint);
            ups.add(m);
        }
        root.put("upstreams", ups);
        return root;
    }
}
