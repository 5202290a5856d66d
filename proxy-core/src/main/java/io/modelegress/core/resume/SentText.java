package io.modelegress.core.resume;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.modelegress.core.sse.StreamCompletion;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What a committed model stream has forwarded to the agent, kept so that a continuation can pick up where it broke:
 * the text per choice (OpenAI chat {@code choices[i].delta.content}), per output part (Responses
 * {@code response.output_text.delta}) or per content block (Anthropic {@code content_block_delta} {@code text_delta}),
 * and the stream's identity ({@code id}, {@code model}, {@code created}, Responses item ids and sequence numbers).
 *
 * <p>Fed with the data of every data-carrying event that went to the agent, in order. It stops being resumable — for
 * good, with the reason — once the stream carries anything that is not plain text (a tool call, a refusal, thinking,
 * a non-message output item), more than one text part (n &gt; 1), data that is not JSON, or more text than
 * {@code maxBuffer} bytes: a continuation could not rebuild those honestly.
 */
public final class SentText {
    static final ObjectMapper JSON = new ObjectMapper();

    private final long maxBuffer;
    private StreamCompletion.Api api = StreamCompletion.Api.UNKNOWN;
    private final Map<String, StringBuilder> texts = new LinkedHashMap<>();
    private long bytes;
    private String whyNot;
    private boolean finished;
    private boolean inBandError;
    String id;
    String model;
    JsonNode created;
    /** Responses: the message item's id and the highest sequence number; Anthropic: the message_start usage. */
    String itemId;
    long sequenceNumber = -1;
    JsonNode usage;

    public SentText(long maxBuffer) { this.maxBuffer = maxBuffer; }

    public StreamCompletion.Api api() { return api; }

    /** Null while a continuation can be built; otherwise why not (for the access log). */
    public String whyNot() {
        if (whyNot != null) return whyNot;
        if (api == StreamCompletion.Api.UNKNOWN) return "not a known model stream";
        if (finished) return "the answer was already finished";
        return null;
    }

    public boolean resumable() { return whyNot() == null; }

    /** The text sent of the one text part ("" when none was sent yet). */
    public String text() { return texts.isEmpty() ? "" : texts.values().iterator().next().toString(); }

    /** The key of the one text part: a chat choice index, an Anthropic block index, "output:content" for Responses. */
    String key() { return texts.isEmpty() ? null : texts.keySet().iterator().next(); }

    /** The text sent, per part. */
    public Map<String, String> texts() {
        Map<String, String> out = new LinkedHashMap<>();
        texts.forEach((k, v) -> out.put(k, v.toString()));
        return out;
    }

    /** True once, right after an event that was the upstream's in-band error (the stream's end, not its text). */
    public boolean takeInBandError() {
        boolean was = inBandError;
        inBandError = false;
        return was;
    }

    /** One data-carrying event that went to the agent. */
    public void onEvent(String data) {
        if (whyNot != null) return;
        if (data.equals("[DONE]")) {
            finished = true;
            return;
        }
        JsonNode n;
        try {
            n = JSON.readTree(data);
        } catch (IOException e) {
            n = null;
        }
        if (!(n instanceof ObjectNode)) {
            stop("an event that is not a JSON object");
            return;
        }
        if (api == StreamCompletion.Api.UNKNOWN) api = apiOf(n);
        String type = n.path("type").asText("");
        if (api == StreamCompletion.Api.CHAT ? n.has("error") && !n.has("choices")
                : type.equals("error") || type.equals("response.failed")) {
            inBandError = true;
            return;
        }
        switch (api) {
            case CHAT: chat(n); break;
            case ANTHROPIC: anthropic(n); break;
            case RESPONSES: responses(n); break;
            default: break;
        }
    }

    static StreamCompletion.Api apiOf(JsonNode n) {
        if (n.has("choices") || "chat.completion.chunk".equals(n.path("object").asText())) return StreamCompletion.Api.CHAT;
        String type = n.path("type").asText("");
        if (type.startsWith("response.")) return StreamCompletion.Api.RESPONSES;
        if (type.startsWith("message_") || type.startsWith("content_block_")) return StreamCompletion.Api.ANTHROPIC;
        return StreamCompletion.Api.UNKNOWN;
    }

    private void chat(JsonNode n) {
        if (id == null && n.hasNonNull("id")) id = n.get("id").asText();
        if (model == null && n.hasNonNull("model")) model = n.get("model").asText();
        if (created == null && n.has("created")) created = n.get("created");
        if (n.hasNonNull("usage")) usage = n.get("usage");
        for (JsonNode c : n.path("choices")) {
            JsonNode d = c.path("delta");
            if (d.hasNonNull("tool_calls") || d.hasNonNull("function_call")) {
                stop("a tool call");
                return;
            }
            if (d.hasNonNull("refusal") && !d.get("refusal").asText().isEmpty()) {
                stop("a refusal");
                return;
            }
            String key = c.path("index").asText("0");
            if (d.hasNonNull("content")) append(key, d.get("content").asText());
            else if (!texts.containsKey(key)) texts.put(key, new StringBuilder());
            if (c.hasNonNull("finish_reason")) finished = true;
            if (texts.size() > 1) stop("more than one choice");
        }
    }

    private void anthropic(JsonNode n) {
        String type = n.path("type").asText("");
        switch (type) {
            case "message_start": {
                JsonNode m = n.path("message");
                id = m.path("id").asText(null);
                model = m.path("model").asText(null);
                usage = m.get("usage");
                break;
            }
            case "content_block_start": {
                String t = n.path("content_block").path("type").asText("");
                if (!t.equals("text")) {
                    stop("a " + t + " block");
                    return;
                }
                texts.putIfAbsent(n.path("index").asText("0"), new StringBuilder());
                if (texts.size() > 1) stop("more than one text block");
                break;
            }
            case "content_block_delta": {
                JsonNode d = n.path("delta");
                if (!"text_delta".equals(d.path("type").asText())) {
                    stop("a " + d.path("type").asText("non-text") + " delta");
                    return;
                }
                append(n.path("index").asText("0"), d.path("text").asText(""));
                break;
            }
            case "message_delta":
                if (n.path("delta").hasNonNull("stop_reason")) finished = true;
                if (n.hasNonNull("usage")) usage = n.get("usage");
                break;
            case "message_stop":
                finished = true;
                break;
            default:
                break;
        }
    }

    private void responses(JsonNode n) {
        String type = n.path("type").asText("");
        long seq = n.path("sequence_number").asLong(-1);
        if (seq > sequenceNumber) sequenceNumber = seq;
        switch (type) {
            case "response.created":
                id = n.path("response").path("id").asText(null);
                model = n.path("response").path("model").asText(null);
                created = n.path("response").get("created_at");
                break;
            case "response.output_item.added": {
                String t = n.path("item").path("type").asText("");
                if (!t.equals("message")) {
                    stop("a " + t + " output item");
                    return;
                }
                itemId = n.path("item").path("id").asText(null);
                break;
            }
            case "response.output_text.delta":
                if (itemId == null) itemId = n.path("item_id").asText(null);
                append(n.path("output_index").asText("0") + ":" + n.path("content_index").asText("0"),
                        n.path("delta").asText(""));
                break;
            case "response.completed": case "response.failed": case "response.incomplete":
                finished = true;
                break;
            default:
                if (type.contains("function_call") || type.contains("reasoning") || type.contains("refusal")) {
                    stop("a " + type + " event");
                }
        }
    }

    private void append(String key, String text) {
        texts.computeIfAbsent(key, k -> new StringBuilder()).append(text);
        if (texts.size() > 1) {
            stop("more than one text part");
            return;
        }
        bytes += text.getBytes(StandardCharsets.UTF_8).length;
        if (bytes > maxBuffer) stop("more text than resume.max_buffer (" + maxBuffer + " bytes)");
    }

    private void stop(String why) {
        whyNot = why;
        texts.clear(); // nothing of it is needed any more
    }
}
