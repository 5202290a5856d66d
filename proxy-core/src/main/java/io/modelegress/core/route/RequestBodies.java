package io.modelegress.core.route;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;

/** What the sidecar reads from a request body: the top-level "model" and "stream", and the model rewrite. */
public final class RequestBodies {
    private static final JsonFactory JSON = new JsonFactory();
    private static final ObjectMapper MAPPER = new ObjectMapper(JSON);

    private RequestBodies() {}

    /** The top-level string field {@code name}, or null when absent or the body is not a JSON object. */
    public static String topLevelString(InputStream body, String name) {
        try (JsonParser p = JSON.createParser(body)) {
            if (p.nextToken() != JsonToken.START_OBJECT) return null;
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                JsonToken t = p.nextToken();
                if (field.equals(name)) return t == JsonToken.VALUE_STRING ? p.getText() : null;
                p.skipChildren();
            }
        } catch (IOException e) {
            return null;
        }
        return null;
    }

    /** The body with its top-level "model" replaced, or null when the body is not a JSON object. */
    public static byte[] withModel(InputStream body, String model) {
        try {
            var node = MAPPER.readTree(body);
            if (!(node instanceof ObjectNode)) return null;
            ((ObjectNode) node).put("model", model);
            return MAPPER.writeValueAsBytes(node);
        } catch (IOException e) {
            return null;
        }
    }
}
