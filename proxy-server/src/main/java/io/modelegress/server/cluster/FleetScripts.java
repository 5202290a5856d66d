package io.modelegress.server.cluster;

/**
 * The Lua scripts that keep the fleet's budgets in Redis. Each runs atomically ({@code EVALSHA}) and reads the
 * time with {@code TIME}, so every replica paces on one clock, the server's, whatever the replicas' clocks say.
 *
 * <p>The budgets are GCRA schedules (the "theoretical arrival time" of the next start, in microseconds): a start
 * costing {@code c} may happen when the bucket holds {@code min(c, burst)}, and pushes the schedule by {@code c}.
 * That is the local {@code TokenBucket} (same burst, same debt for a request larger than it) kept as one number.
 * A start is reserved at arrival: the answer is when it may start, so the fleet's starts come out paced instead of
 * racing, and the queue waits locally without asking again.
 */
final class FleetScripts {
    private FleetScripts() { }

    /**
     * KEYS: request schedule, token schedule, pause, leases. ARGV: request increment and burst (µs; 0 = off),
     * token increment per token and burst (µs; 0 = off), tokens, longest wait (µs), max_concurrent (0 = off),
     * lease member, lease TTL (ms). Returns {status, wait µs, limit}: status 1 start (limit 4: with a lease),
     * 0 refused (nothing reserved), 2 every concurrency slot taken (wait: when to ask again).
     */
    static final String RESERVE = String.join("\n",
            "local t = redis.call('TIME')",
            "local now = tonumber(t[1]) * 1000000 + tonumber(t[2])",
            "local pause = tonumber(redis.call('GET', KEYS[3]) or '0')",
            "local function plan(key, inc, burst, cost)",
            "  if inc <= 0 then return nil, nil end",
            "  local c = inc * cost",
            "  local tat = tonumber(redis.call('GET', key) or '0')",
            "  if tat < now then tat = now end",
            "  local first = math.min(c, burst)",
            "  if pause > now then tat = math.max(tat, pause + burst - first) end",
            "  local s = tat - burst + first",
            "  if s < now then s = now end",
            "  return s, tat + c",
            "end",
            "local s1, n1 = plan(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), 1)",
            "local s2, n2 = plan(KEYS[2], tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]))",
            "local start, which = now, 0",
            "if pause > start then start, which = pause, 3 end",
            "if s1 and s1 > start then start, which = s1, 1 end",
            "if s2 and s2 > start then start, which = s2, 2 end",
            "local wait = start - now",
            "if wait > tonumber(ARGV[6]) then return {0, math.floor(wait), which} end",
            "local maxc = tonumber(ARGV[7])",
            "if maxc > 0 then",
            "  local nowms = math.floor(now / 1000)",
            "  local ttl = tonumber(ARGV[9])",
            "  redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', nowms)",
            "  if redis.call('ZCARD', KEYS[4]) >= maxc then",
            "    local soonest = redis.call('ZRANGE', KEYS[4], 0, 0, 'WITHSCORES')",
            "    local free = (tonumber(soonest[2]) - nowms) * 1000",
            "    return {2, math.floor(math.min(free, 20000)), 4}",
            "  end",
            "  redis.call('ZADD', KEYS[4], nowms + ttl, ARGV[8])",
            "  redis.call('PEXPIRE', KEYS[4], ttl * 2)",
            "  which = 4",
            "end",
            "if n1 then redis.call('SET', KEYS[1], string.format('%.0f', n1), 'PX', math.ceil((n1 - now) / 1000) + 1000) end",
            "if n2 then redis.call('SET', KEYS[2], string.format('%.0f', n2), 'PX', math.ceil((n2 - now) / 1000) + 1000) end",
            "return {1, math.floor(wait), which}");

    /**
     * KEYS: token schedule, leases. ARGV: token increment (µs; 0 = off), tokens given back (negative: charged),
     * lease member ('' = none). Frees the lease and moves the token schedule by the correction.
     */
    static final String FINISH = String.join("\n",
            "if ARGV[3] ~= '' then redis.call('ZREM', KEYS[2], ARGV[3]) end",
            "local inc, back = tonumber(ARGV[1]), tonumber(ARGV[2])",
            "if inc <= 0 or back == 0 then return 0 end",
            "local t = redis.call('TIME')",
            "local now = tonumber(t[1]) * 1000000 + tonumber(t[2])",
            "local tat = tonumber(redis.call('GET', KEYS[1]) or '0')",
            "if tat < now then tat = now end",
            "tat = tat - back * inc",
            "if tat <= now then redis.call('DEL', KEYS[1]) return 0 end",
            "redis.call('SET', KEYS[1], string.format('%.0f', tat), 'PX', math.ceil((tat - now) / 1000) + 1000)",
            "return 1");

    /**
     * KEYS: pause. ARGV: pause length (µs), channel, message head. Holds every replica's starts (the reservation
     * script reads the key) and tells the replicas at once (their queued starts were reserved before it), unless a
     * longer pause is already set.
     */
    static final String PAUSE = String.join("\n",
            "local t = redis.call('TIME')",
            "local now = tonumber(t[1]) * 1000000 + tonumber(t[2])",
            "local dur = tonumber(ARGV[1])",
            "local cur = tonumber(redis.call('GET', KEYS[1]) or '0')",
            "if now + dur <= cur then return 0 end",
            "redis.call('SET', KEYS[1], string.format('%.0f', now + dur), 'PX', math.ceil(dur / 1000))",
            "redis.call('PUBLISH', ARGV[2], ARGV[3] .. ' ' .. string.format('%.0f', dur))",
            "return 1");

    /**
     * KEYS: replicas, then the lease sets to renew. ARGV: this replica's id, TTL (ms), then per lease set the count
     * of members followed by the members. Announces this replica, renews its live leases, returns the replicas alive.
     */
    static final String HEARTBEAT = String.join("\n",
            "local t = redis.call('TIME')",
            "local nowms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)",
            "local ttl = tonumber(ARGV[2])",
            "redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', nowms)",
            "redis.call('ZADD', KEYS[1], nowms + ttl, ARGV[1])",
            "redis.call('PEXPIRE', KEYS[1], ttl * 2)",
            "local i = 3",
            "for k = 2, #KEYS do",
            "  local n = tonumber(ARGV[i])",
            "  for j = 1, n do redis.call('ZADD', KEYS[k], 'XX', nowms + ttl, ARGV[i + j]) end",
            "  i = i + n + 1",
            "end",
            "return redis.call('ZCARD', KEYS[1])");

    /** KEYS: ejection. ARGV: ejection length (ms), channel, message. Sets the key and tells the replicas. */
    static final String EJECT = String.join("\n",
            "redis.call('SET', KEYS[1], '1', 'PX', ARGV[1])",
            "redis.call('PUBLISH', ARGV[2], ARGV[3])",
            "return 1");

    /** Every script, loaded into Redis as a connection opens. */
    static final java.util.List<String> ALL = java.util.List.of(RESERVE, FINISH, PAUSE, HEARTBEAT, EJECT);
}
