package io.modelegress.deploy;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.List;
import java.util.Map;

/**
 * fabric8 keeps fields it does not know in {@code additionalProperties} instead of failing, so a misspelt key
 * ({@code livenesProbe}, {@code mountpath}) would pass a plain parse and be ignored by the API server's pruning.
 * This walks a parsed object and lists every such field with its path.
 */
final class UnknownFields {
    private UnknownFields() {}

    static List<String> in(Object root) {
        List<String> found = new java.util.ArrayList<>();
        walk(root, "", found);
        return found;
    }

    private static void walk(Object o, String path, List<String> found) {
        if (o == null) return;
        if (o instanceof List<?> list) {
            for (int i = 0; i < list.size(); i++) walk(list.get(i), path + "[" + i + "]", found);
            return;
        }
        if (o instanceof Map<?, ?> map) {
            for (Map.Entry<?, ?> e : map.entrySet()) walk(e.getValue(), path + "[" + e.getKey() + "]", found);
            return;
        }
        if (!o.getClass().getName().startsWith("io.fabric8.kubernetes.api.model")) return;
        for (Method m : o.getClass().getMethods()) {
            if (m.getParameterCount() != 0 || Modifier.isStatic(m.getModifiers()) || !m.getName().startsWith("get")
                    || m.getName().equals("getClass") || m.getDeclaringClass().isInterface()) continue;
            Object value;
            try {
                value = m.invoke(o);
            } catch (ReflectiveOperationException e) {
                continue;
            }
            String field = Character.toLowerCase(m.getName().charAt(3)) + m.getName().substring(4);
            if (m.getName().equals("getAdditionalProperties")) {
                if (value instanceof Map<?, ?> extra) {
                    for (Object k : extra.keySet()) found.add(path + "." + k);
                }
            } else {
                walk(value, path + "." + field, found);
            }
        }
    }
}
