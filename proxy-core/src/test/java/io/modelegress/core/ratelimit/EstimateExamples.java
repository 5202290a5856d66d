package io.modelegress.core.ratelimit;

import java.nio.charset.StandardCharsets;

/**
 * Realistic request bodies for measuring {@link TokenEstimator}, with their prompt size in real tokens.
 *
 * <p>The real counts were taken once, outside the build, with JTokkit's o200k_base (GPT-4o's encoding) and
 * OpenAI's chat framing (3 tokens per message + its role, 3 to prime the reply); tool definitions and tool-call
 * arguments were counted as their JSON text. Claude's tokenizer is not public, so the Anthropic body is measured
 * with o200k_base too: a proxy, not the truth.
 */
final class EstimateExamples {
    private EstimateExamples() { }

    record Example(String name, String body, long realInputTokens, long outputLimit) {
        byte[] bytes() {
            return body.getBytes(StandardCharsets.UTF_8);
        }
    }

    static final String SHORT_CHAT = """
            {"model":"gpt-4o-mini","messages":[
              {"role":"system","content":"You are a helpful assistant. Answer concisely."},
              {"role":"user","content":"What is the difference between a process and a thread on Linux?"}],
             "max_tokens":256,"temperature":0.2}
            """;

    static final String CODING_AGENT = """
            {"model":"gpt-4.1","stream":true,"stream_options":{"include_usage":true},
             "max_completion_tokens":4096,
             "messages":[
              {"role":"system","content":"You are a coding agent working in a Java 17 Maven repository. Use the tools to read and edit files. Keep changes minimal, run the tests after every edit, and explain what you changed and why in one short paragraph at the end. Never invent file contents: read a file before you edit it."},
              {"role":"user","content":"The test RetryPolicyTest.retriesConnectFailureOnNextAttempt fails with an off-by-one. Find and fix the bug."},
              {"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"read_file","arguments":"{\\"path\\":\\"proxy-core/src/main/java/io/modelegress/core/retry/RetryPolicy.java\\"}"}}]},
              {"role":"tool","tool_call_id":"call_1","content":"package io.modelegress.core.retry;\\n\\nimport java.time.Duration;\\n\\npublic final class RetryPolicy {\\n    private final int maxAttempts;\\n    private final Duration base;\\n\\n    public RetryPolicy(int maxAttempts, Duration base) {\\n        this.maxAttempts = maxAttempts;\\n        this.base = base;\\n    }\\n\\n    public boolean mayRetry(int attempt) {\\n        return attempt <= maxAttempts;\\n    }\\n\\n    public Duration backoff(int attempt) {\\n        return base.multipliedBy(1L << Math.min(attempt, 10));\\n    }\\n}\\n"},
              {"role":"assistant","content":"The check allows one attempt too many: `attempt <= maxAttempts` should be `attempt < maxAttempts`, since maxAttempts includes the first attempt. I will fix it."},
              {"role":"user","content":"Go ahead, and also add a test for maxAttempts = 1."}],
             "tools":[
              {"type":"function","function":{"name":"read_file","description":"Read a UTF-8 text file from the repository.","parameters":{"type":"object","properties":{"path":{"type":"string","description":"Path relative to the repository root"}},"required":["path"]}}},
              {"type":"function","function":{"name":"write_file","description":"Replace the whole content of a file.","parameters":{"type":"object","properties":{"path":{"type":"string"},"content":{"type":"string","description":"The new file content"}},"required":["path","content"]}}},
              {"type":"function","function":{"name":"run_tests","description":"Run the Maven tests of one module and return the summary.","parameters":{"type":"object","properties":{"module":{"type":"string","enum":["proxy-core","proxy-server"]}},"required":["module"]}}}]}
            """;

    static final String ANTHROPIC_TOOL_USE = """
            {"model":"claude-sonnet-4-5","max_tokens":2048,
             "system":[{"type":"text","text":"You are an operations assistant for a Kubernetes cluster. Prefer read-only commands. Before any change, state the command and wait for approval.","cache_control":{"type":"ephemeral"}}],
             "tools":[{"name":"kubectl","description":"Run a read-only kubectl command and return its output.","input_schema":{"type":"object","properties":{"args":{"type":"array","items":{"type":"string"}}},"required":["args"]}}],
             "messages":[
              {"role":"user","content":"Why is the checkout deployment not ready?"},
              {"role":"assistant","content":[{"type":"text","text":"Let me look at the pods of the checkout deployment."},{"type":"tool_use","id":"toolu_01","name":"kubectl","input":{"args":["get","pods","-l","app=checkout","-o","wide"]}}]},
              {"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_01","content":"NAME                        READY   STATUS             RESTARTS   AGE   IP            NODE\\ncheckout-7d9f8b6c5d-2xkqp   0/1     CrashLoopBackOff   7          14m   10.42.3.17    worker-2\\ncheckout-7d9f8b6c5d-9hj4t   0/1     CrashLoopBackOff   7          14m   10.42.1.22    worker-1"}]}]}
            """;

    static final String RESPONSES_API = """
            {"model":"gpt-4.1-mini","instructions":"Summarise the incident report for an executive audience in three bullet points.",
             "input":"At 09:12 UTC the payment service began returning HTTP 502 to roughly 30% of checkout requests. The on-call engineer traced the errors to the egress proxy, which had exhausted its connection pool after an upstream provider slowed down: responses that normally take 800 ms took up to 40 s, connections were held for the whole duration, and new requests queued behind them until the route timeout fired. Mitigation at 09:41 raised the pool size and lowered the response-headers timeout to 20 s; error rates returned to baseline by 09:47. Follow-ups: add per-upstream concurrency limits with a bounded queue, alert on queue wait above 5 s, and load-test the slow-upstream scenario.",
             "max_output_tokens":400}
            """;

    static final String MULTILINGUAL = """
            {"model":"gpt-4o","messages":[
              {"role":"system","content":"あなたは丁寧な日本語で答えるアシスタントです。"},
              {"role":"user","content":"東京から大阪まで新幹線で行く場合、所要時間と料金の目安を教えてください。また、途中で京都に立ち寄るおすすめの方法はありますか?"},
              {"role":"assistant","content":"のぞみ号で約2時間30分、指定席は片道およそ14,000円です。"},
              {"role":"user","content":"Danke! Und wie lange dauert die Fahrt von Kyoto nach Osaka mit dem Regionalzug?"}],
             "max_tokens":500}
            """;

    static final String NO_OUTPUT_LIMIT = """
            {"model":"gpt-4o","messages":[{"role":"user","content":"Write a haiku about rate limits."}]}
            """;

    /** Real counts: see the class comment. */
    static final Example[] ALL = {
        new Example("short chat", SHORT_CHAT, 35, 256),
        new Example("coding agent with tools", CODING_AGENT, 465, 4096),
        new Example("anthropic tool use", ANTHROPIC_TOOL_USE, 247, 2048),
        new Example("responses api", RESPONSES_API, 175, 400),
        new Example("japanese and german", MULTILINGUAL, 120, 500),
        new Example("no output limit", NO_OUTPUT_LIMIT, 15, TokenEstimator.DEFAULT_OUTPUT_TOKENS),
    };
}
