package io.modelegress.core.route;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.io.InputStream;

/**
 * The calls of the stateful Responses API that {@link ResponseAffinity} cares about, told apart by method and path
 * alone: the one that creates a response ({@code POST …/responses}) and those that follow one up
 * ({@code GET|DELETE …/responses/{id}}, {@code POST …/responses/{id}/cancel}, {@code GET …/responses/{id}/input_items}).
 * The path's last {@code responses} segment anchors it, so a route prefix ({@code /openai/v1}) does not matter. And the
 * response id a create call's answer carries: the top-level {@code id} of its JSON body, or the {@code response.id}
 * of a stream's first event ({@code response.created}).
 */
public final class ResponsesApi {
    private static final JsonFactory JSON = new JsonFactory();
    /** An id longer than this, or with other characters, is not one we remember (it could be anything). */
    static final int MAX_ID = 200;

    private ResponsesApi() {}

    public enum Kind { CREATE, FOLLOW_UP }

    /** {@code responseId}: the id in the path of a follow-up; null for a create (its body may name one). */
    public record Call(Kind kind, String responseId) {}

    /** The Responses API call {@code method} {@code uri} makes, or null when it is none of them. */
    public static Call classify(String method, String uri) {
        int q = uri.indexOf('?');
        String path = q < 0 ? uri : uri.substring(0, q);
        if (path.endsWith("/")) path = path.substring(0, path.length() - 1);
        int at = path.lastIndexOf("/responses");
        while (at >= 0 && !(at + 10 == path.length() || path.charAt(at + 10) == '/')) at = path.lastIndexOf("/responses", at - 1);
        if (at < 0) return null;
        String rest = path.substring(at + 10); // "", "/{id}", "/{id}/cancel", "/{id}/input_items"
        if (rest.isEmpty()) return "POST".equals(method) ? new Call(Kind.CREATE, null) : null;
        int slash = rest.indexOf('/', 1);
        String id = slash < 0 ? rest.substring(1) : rest.substring(1, slash);
        if (!isId(id)) return null;
        String tail = slash < 0 ? "" : rest.substring(slash);
        boolean follows = switch (tail) {
            case "" -> "GET".equals(method) || "DELETE".equals(method);
            case "/cancel" -> "POST".equals(method);
            case "/input_items" -> "GET".equals(method);
            default -> false;
        };
        return follows ? new Call(Kind.FOLLOW_UP, id) : null;
    }

    /**
     * The id of the response a create call answered with, from the first bytes of its JSON body (a truncated prefix
     * is fine: the id comes first in practice, and a prefix that ends before it just yields null).
     */
    public static String idOfBody(InputStream bodyPrefix) {
        String id = RequestBodies.topLevelString(bodyPrefix, "id");
        return isId(id) ? id : null;
    }

    /** The id of the response a streamed create call opened, from its first event's data ({@code response.id}). */
    public static String idOfEvent(String data) {
        if (data == null) return null;
        try (JsonParser p = JSON.createParser(data)) {
            if (p.nextToken() != JsonToken.START_OBJECT) return null;
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                JsonToken t = p.nextToken();
                if (field.equals("response") && t == JsonToken.START_OBJECT) {
                    while (p.nextToken() == JsonToken.FIELD_NAME) {
                        String inner = p.currentName();
                        JsonToken v = p.nextToken();
                        if (inner.equals("id")) return v == JsonToken.VALUE_STRING && isId(p.getText()) ? p.getText() : null;
                        p.skipChildren();
                    }
                    return null;
                }
                p.skipChildren();
            }
        } catch (IOException e) {
            return null;
        }
        return null;
    }

    /** A plausible response id: 1 to 200 characters of letters, digits, {@code _ - . :}; safe in a header or log. */
    public static boolean isId(String s) {
        if (s == null || s.isEmpty() || s.length() > MAX_ID) return false;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean ok = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
                    || c == '.' || c == ':';
            if (!ok) return false;
        }
        return true;
    }
}
