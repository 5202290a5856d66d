-- wrk script for bench/run.sh: a non-streaming chat completion POST of about 1 KB, and one machine-readable
-- result line (wrk's own --latency table stops at p99).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer sk-bench-placeholder"
wrk.headers["User-Agent"] = "OpenAI/Python 1.51.0"

local filler = string.rep("Benchmark filler so the request body is about one kilobyte, like a short agent turn. ", 9)
wrk.body = '{"model":"gpt-4o-mini","stream":false,"max_tokens":64,"temperature":0,'
  .. '"messages":[{"role":"system","content":"You are a terse assistant used for proxy benchmarks."},'
  .. '{"role":"user","content":"' .. filler .. '"}]}'

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRKRESULT requests=%d duration_us=%d rps=%.1f p50_us=%d p99_us=%d p999_us=%d max_us=%d mean_us=%.0f "
      .. "connect_errors=%d read_errors=%d write_errors=%d timeouts=%d non2xx=%d body_bytes=%d\n",
    summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(99), latency:percentile(99.9), latency.max, latency.mean,
    e.connect, e.read, e.write, e.timeout, e.status, #wrk.body))
end
