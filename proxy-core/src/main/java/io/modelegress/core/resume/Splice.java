package io.modelegress.core.resume;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.Iterator;
import java.util.Map;

/**
 * Turns a continuation's events into the rest of the stream the agent is reading, so the two parts read as one
 * answer: the original's {@code id}, {@code model}, {@code created} (Responses: item id, sequence numbers carried on),
 * the continuation's preamble dropped (the chat role delta, {@code message_start}, {@code response.created}, the
 * block or part the original had opened already), {@code usage} summed with what the original reported, and the
 * end marker once.
 *
 * <p>A replay's output starts with the text the agent already has: that prefix is suppressed, and the first text past
 * it forwarded. Where the new output differs from it the splice is impossible ({@link Fail}): nothing of the
 * continuation has reached the agent then, so the agent can still get the original failure, never a garbled answer.
 * A prefill's output is the remainder already; only the whitespace Anthropic made us hold back is matched, leniently.
 */
public final class Splice {
    /** What to do with one event of the continuation. */
    public sealed interface Step permits Emit, Drop, Fail {}

    /** Write {@code sse} (a whole event, with its blank line) to the agent; {@code data} is its data, as sent. */
    public record Emit(String sse, String data) implements Step {}

    /** The event is not part of the spliced stream. */
    public record Drop() implements Step {}

    /** The continuation cannot be spliced: end with the original failure. */
    public record Fail(String why) implements Step {}

    private static final Drop DROP = new Drop();

    private final SentText sent;
    private final boolean strict;
    private String pending;
    private boolean ended;
    private long sequence;
    private String blockKey;

    private Splice(SentText sent, String pending, boolean strict) {
        this.sent = sent;
        this.pending = pending;
        this.strict = strict;
        this.sequence = sent.sequenceNumber;
    }

    /** For a replay: the continuation repeats the whole answer, of which {@code sent} must be a prefix. */
    public static Splice replay(SentText sent) { return new Splice(sent, sent.text(), true); }

    /** For a prefill that held back {@code heldBack} of the text sent (Anthropic's trailing whitespace). */
    public static Splice prefill(SentText sent, String heldBack) { return new Splice(sent, heldBack, false); }

    /** The SSE comment that marks the splice (ignored by SDKs), for whoever reads the raw stream. */
    public static String marker(String strategy, int attempt) {
        return ": model-egress resumed the stream here (strategy=" + strategy + ", attempt=" + attempt + ")\n\n";
    }

    /** True once the continuation's text has passed the part the agent already had. */
    public boolean caughtUp() { return pending.isEmpty(); }

    /** The data of one data-carrying event of the continuation. */
    public Step onEvent(String data) {
        if (data.equals("[DONE]")) {
            if (!caughtUp() && strict) return diverged("ended");
            if (ended) return DROP;
            ended = true;
            return new Emit("data: [DONE]\n\n", "[DONE]");
        }
        JsonNode n;
        try {
            n = SentText.JSON.readTree(data);
        } catch (IOException e) {
            return new Fail("the continuation sent an event that is not JSON");
        }
        if (!(n instanceof ObjectNode)) return new Fail("the continuation sent an event that is not a JSON object");
        ObjectNode o = (ObjectNode) n;
        switch (sent.api()) {
            case CHAT: return chat(o);
            case ANTHROPIC: return anthropic(o);
            case RESPONSES: return responses(o);
            default: return new Fail("not a known model stream");
        }
    }

    private Step chat(ObjectNode o) {
        if (o.has("error") && !o.has("choices")) return new Fail("the continuation sent an error event");
        if (sent.id != null) o.put("id", sent.id);
        if (sent.model != null) o.put("model", sent.model);
        if (sent.created != null) o.set("created", sent.created);
        boolean carries = o.hasNonNull("usage");
        if (carries) sumUsage((ObjectNode) o.get("usage"), sent.usage);
        for (JsonNode c : o.path("choices")) {
            if (!c.path("index").asText("0").equals("0")) return new Fail("the continuation has more than one choice");
            if (sent.key() != null) ((ObjectNode) c).put("index", Integer.parseInt(sent.key()));
            JsonNode d = c.path("delta");
            if (d.hasNonNull("tool_calls") || d.hasNonNull("function_call")) return new Fail("the continuation called a tool");
            if (d instanceof ObjectNode) {
                ObjectNode delta = (ObjectNode) d;
                delta.remove("role");
                if (delta.hasNonNull("content")) {
                    String out = consume(delta.get("content").asText());
                    if (out == null) return diverged("differs");
                    if (out.isEmpty()) delta.remove("content");
                    else delta.put("content", out);
                }
                if (delta.hasNonNull("content")) carries = true;
            }
            if (c.hasNonNull("finish_reason")) {
                if (!caughtUp() && strict) return diverged("ended");
                carries = true;
            }
        }
        return carries ? new Emit("data: " + o + "\n\n", o.toString()) : DROP;
    }

    private Step anthropic(ObjectNode o) {
        String type = o.path("type").asText("");
        switch (type) {
            case "message_start": case "ping":
                return DROP;
            case "error":
                return new Fail("the continuation sent an error event");
            case "content_block_start": {
                if (!"text".equals(o.path("content_block").path("type").asText())) return new Fail("the continuation started a non-text block");
                if (blockKey != null) return new Fail("the continuation has more than one text block");
                blockKey = o.path("index").asText("0");
                if (sent.key() != null) return DROP; // the original's block is open at the agent
                return anthropicEvent(type, o);
            }
            case "content_block_delta": {
                JsonNode d = o.path("delta");
                if (!"text_delta".equals(d.path("type").asText())) return new Fail("the continuation sent a non-text delta");
                String out = consume(d.path("text").asText(""));
                if (out == null) return diverged("differs");
                if (out.isEmpty()) return DROP;
                ((ObjectNode) d).put("text", out);
                return anthropicEvent(type, reindex(o));
            }
            case "content_block_stop":
                return anthropicEvent(type, reindex(o));
            case "message_delta":
                if (!caughtUp() && strict) return diverged("ended");
                if (o.get("usage") instanceof ObjectNode) sumUsage((ObjectNode) o.get("usage"), sent.usage);
                return anthropicEvent(type, o);
            case "message_stop":
                if (ended) return DROP;
                ended = true;
                return anthropicEvent(type, o);
            default:
                return anthropicEvent(type, o);
        }
    }

    private ObjectNode reindex(ObjectNode o) {
        if (sent.key() != null) o.put("index", Integer.parseInt(sent.key()));
        return o;
    }

    private static Emit anthropicEvent(String type, ObjectNode o) {
        return new Emit("event: " + type + "\ndata: " + o + "\n\n", o.toString());
    }

    private Step responses(ObjectNode o) {
        String type = o.path("type").asText("");
        switch (type) {
            case "response.created": case "response.in_progress":
                return DROP;
            case "error": case "response.failed":
                return new Fail("the continuation sent " + type);
            case "response.output_item.added":
                if (!"message".equals(o.path("item").path("type").asText())) return new Fail("the continuation added a non-message output item");
                if (sent.itemId != null) return DROP;
                break;
            case "response.content_part.added":
                if (sent.key() != null) return DROP;
                break;
            case "response.output_text.delta": {
                String out = consume(o.path("delta").asText(""));
                if (out == null) return diverged("differs");
                if (out.isEmpty()) return DROP;
                o.put("delta", out);
                break;
            }
            default:
                if (type.contains("function_call") || type.contains("reasoning") || type.contains("refusal")) {
                    return new Fail("the continuation sent " + type);
                }
                if ((type.endsWith(".done") || type.equals("response.completed")) && !caughtUp() && strict) return diverged("ended");
        }
        if (sent.itemId != null && o.has("item_id")) o.put("item_id", sent.itemId);
        if (sent.itemId != null && o.get("item") instanceof ObjectNode) ((ObjectNode) o.get("item")).put("id", sent.itemId);
        if (o.get("response") instanceof ObjectNode) {
            ObjectNode r = (ObjectNode) o.get("response");
            if (sent.id != null) r.put("id", sent.id);
            if (sent.created != null) r.set("created_at", sent.created);
            if (r.get("usage") instanceof ObjectNode) sumUsage((ObjectNode) r.get("usage"), sent.usage);
        }
        if (o.has("sequence_number")) o.put("sequence_number", ++sequence);
        if (type.equals("response.completed") || type.equals("response.incomplete")) {
            if (ended) return DROP;
            ended = true;
        }
        return new Emit("event: " + type + "\ndata: " + o + "\n\n", o.toString());
    }

    /**
     * The part of {@code piece} the agent does not have yet, or null when it contradicts the text still pending (a
     * replay that took another path). A lenient match (prefill) just stops matching there.
     */
    private String consume(String piece) {
        if (pending.isEmpty()) return piece;
        int k = 0;
        int max = Math.min(piece.length(), pending.length());
        while (k < max && piece.charAt(k) == pending.charAt(k)) k++;
        if (k < max) {
            if (strict) return null;
            pending = "";
            return piece.substring(k);
        }
        if (piece.length() <= pending.length()) {
            pending = pending.substring(piece.length());
            return "";
        }
        String rest = piece.substring(pending.length());
        pending = "";
        return rest;
    }

    private Fail diverged(String how) {
        return new Fail("the replayed answer " + how + " before reaching the " + sent.text().length()
                + " characters the agent already has");
    }

    /** Adds the original's reported usage, field by field (numbers only; nested objects too). */
    static void sumUsage(ObjectNode into, JsonNode original) {
        if (!(original instanceof ObjectNode)) return;
        for (Iterator<Map.Entry<String, JsonNode>> it = original.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            JsonNode mine = into.get(e.getKey());
            if (e.getValue().isIntegralNumber() && (mine == null || mine.isIntegralNumber())) {
                into.put(e.getKey(), (mine == null ? 0 : mine.asLong()) + e.getValue().asLong());
            } else if (e.getValue() instanceof ObjectNode && mine instanceof ObjectNode) {
                sumUsage((ObjectNode) mine, e.getValue());
            }
        }
    }
}
