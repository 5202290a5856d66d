#!/usr/bin/env bash
# One command, on a fresh Debian machine: the model-egress benchmark on loopback (docs/benchmarks.md).
#
#   bench/run.sh                   # everything, 10-15 minutes on 2 cores
#   PHASES="start load" bench/run.sh   # some of: start load sse profile scale rate redis
#
# Phases, in the order they run: start (start-to-ready, idle RSS), load (non-streaming table: direct / nginx /
# sidecar), sse (time to first and last byte of 50-chunk streams), profile (JFR of the sidecar under the load,
# PROFILE_CONCURRENCIES connections, zero-cost upstream; top methods, allocations, bytes allocated per request),
# scale (N slow streams held open: RSS, drops; by default to an HTTP/2 upstream, the mock over TLS: SCALE_UPSTREAM=h2,
# SCALE_STREAMS=10000),
# rate (issue 7: limits.requests_per_minute and limits.max_concurrent as the mock sees them), redis (issue 17: what the
# fleet-shared limit check costs per request on a loopback redis-server: scope local vs shared, same load; not in the
# default set: PHASES="redis" bench/run.sh).
#
# Every process it starts listens on 127.0.0.1 only and is stopped on exit; every load loop is bounded in time.
# Knobs (environment): see the defaults below. Results go to $OUT (default bench/target/run-DATE).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PHASES=${PHASES:-"start load sse scale rate profile"}
CONCURRENCIES=${CONCURRENCIES:-"1 16 64 256"}
DURATION=${DURATION:-10}            # seconds measured per wrk run
WARMUP=${WARMUP:-2}                 # seconds of wrk before each measured run, discarded
JIT_WARMUP=${JIT_WARMUP:-30}        # seconds at 64 connections per target before the table, discarded (C2 needs ~20 s)
DELAY_MS=${DELAY_MS:-1}             # mock latency before every response
MOCK_THREADS=${MOCK_THREADS:-1}
SSE_CHUNKS=${SSE_CHUNKS:-50}
SSE_INTERVAL_MS=${SSE_INTERVAL_MS:-2}
SSE_REQUESTS=${SSE_REQUESTS:-200}
STREAMS=${SCALE_STREAMS:-${STREAMS:-10000}}  # scale phase: streams held open at once
# The scale phase's upstream: "h2" (the Java mock over TLS, picked h2 by ALPN: the sidecar multiplexes the streams
# over a few upstream connections, one socket per stream in the sidecar) or "h1" (the plain mock: two sockets per
# stream, so this sandbox's 20,000 open files cap it at 9,900).
SCALE_UPSTREAM=${SCALE_UPSTREAM:-h2}
H2_MAX_STREAMS=${H2_MAX_STREAMS:-1000}   # the h2 mock's SETTINGS_MAX_CONCURRENT_STREAMS
HOLD_SECONDS=${HOLD_SECONDS:-30}    # each held stream: one chunk a second for this long
RATE_SECONDS=${RATE_SECONDS:-30}
RATE_CONNECTIONS=${RATE_CONNECTIONS:-50}
PROFILE_SECONDS=${PROFILE_SECONDS:-30}
PROFILE_CONCURRENCIES=${PROFILE_CONCURRENCIES:-"64"}   # one JFR recording per connection count
PROFILE_WARMUP=${PROFILE_WARMUP:-25}                    # seconds at 64 connections before the first recording (JIT)
FLOOR=${FLOOR:-0}                                       # 1: the load table gains a "floor" path, a bare Netty proxy (NettyFloor)
LOAD_CONNECTION_CLOSE=${LOAD_CONNECTION_CLOSE:-0}       # 1: wrk asks for "Connection: close", a new agent connection per request
ASYNC_PROFILER=${ASYNC_PROFILER:-}                      # path to libasyncProfiler.so: the profile phase also records a CPU profile with kernel frames
START_RUNS=${START_RUNS:-3}
CDS=${CDS:-1}                       # also time start-up with an AppCDS archive (and with C1 only)
QUIET_WAIT=${QUIET_WAIT:-90}        # before each measurement, wait up to this long for other processes to go quiet
QUIET_PCT=${QUIET_PCT:-10}          # "quiet": other processes use under this % of one core
NOISY_PCT=${NOISY_PCT:-20}          # a load cell disturbed more than this is measured again...
NOISY_RETRIES=${NOISY_RETRIES:-2}   # ...up to this many times
SIDECAR_JVM_FLAGS=${SIDECAR_JVM_FLAGS:-"-XX:+UseSerialGC -Xms64m -Xmx256m"}
SIDECAR_ACCESS_LOG=${SIDECAR_ACCESS_LOG:-OFF}   # the sidecar's access log (MODEL_EGRESS_ACCESS_LOG): OFF like nginx's here; INFO as deployed
# The image's own flags (deploy/Dockerfile's JAVA_TOOL_OPTIONS, its archive path left out) under the pod's memory
# limit (256Mi in deploy/k8s), which -XX:MaxRAM stands for outside a container: the start phase's last row.
IMAGE_JVM_FLAGS=${IMAGE_JVM_FLAGS:-"$(sed -n 's/^ENV JAVA_TOOL_OPTIONS="\(.*\)"/\1/p' "$ROOT/deploy/Dockerfile" | sed 's/ *-XX:SharedArchiveFile=[^ ]*//') -XX:MaxRAM=256m"}
# The load, SSE and profile phases run the sidecar as the image runs it (issue 20 sets its targets with the image's
# flags); the scale, rate and redis phases keep SIDECAR_JVM_FLAGS (10,000 streams do not fit a 256 MiB pod).
LOAD_JVM_FLAGS=${LOAD_JVM_FLAGS:-$IMAGE_JVM_FLAGS}
IDLE_WAIT=${IDLE_WAIT:-5}           # seconds after ready at which idle RSS is read
SIDECAR_JAR=${SIDECAR_JAR:-$ROOT/proxy-server/target/model-egress.jar}
BENCH_JAR=${BENCH_JAR:-$ROOT/bench/target/bench.jar}
OUT=${OUT:-$ROOT/bench/target/run-$(date +%Y%m%d-%H%M%S)}
# Ports, all on 127.0.0.1.
MOCK_PORT=${MOCK_PORT:-18081}
SLOW_PORT=${SLOW_PORT:-18083}
SLOW_H2_PORT=${SLOW_H2_PORT:-18085}
NGINX_PORT=${NGINX_PORT:-18082}
SIDECAR_PORT=${SIDECAR_PORT:-18080}
ADMIN_PORT=${ADMIN_PORT:-19090}
REDIS_PORT=${REDIS_PORT:-18379}
ZERO_PORT=${ZERO_PORT:-18084}
FLOOR_PORT=${FLOOR_PORT:-18086}
# The load table's upstream: "zero" (a second nginx answering `return 200` with a fixed ~300-byte JSON body: it costs
# almost nothing, so the table measures the proxies, not the upstream) or "mock" (the Java mock with DELAY_MS).
LOAD_UPSTREAM=${LOAD_UPSTREAM:-zero}
REDIS_CONNECTIONS=${REDIS_CONNECTIONS:-16}

PATH_V1=/v1/chat/completions
WORK=$(mktemp -d /tmp/model-egress-bench.XXXXXX)
mkdir -p "$OUT"
RESULTS=$OUT/results.md
: >"$RESULTS"

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
out() { printf '%s\n' "$*" | tee -a "$RESULTS"; }
has_phase() { [[ " $PHASES " == *" $1 "* ]]; }

# ---------------------------------------------------------------------------------------------------------------
# Processes: every one we start is remembered and stopped on exit.
PIDS=()
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
  if [[ -n "${KEEP_WORK:-}" ]]; then log "work dir kept: $WORK"; else rm -rf "$WORK"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

stop_pid() {
  local pid=$1
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
}

wait_http() { # url timeout_s: until it answers 2xx
  local url=$1 deadline=$((SECONDS + $2))
  until curl -sf -o /dev/null --max-time 1 "$url"; do
    ((SECONDS < deadline)) || { log "no answer from $url"; return 1; }
    sleep 0.05
  done
}

# Fork-free helpers for the start-up timing: microseconds since the epoch, and a pause that is a timed read on a
# FIFO nobody writes to (the `sleep` binary would fork).
usec_now() { local t=$EPOCHREALTIME; NOW_US=${t/[.,]/}; }  # sets NOW_US (no $(...): that forks)
PAUSE_FIFO=""
pause() {
  if [[ -z $PAUSE_FIFO ]]; then
    PAUSE_FIFO=$(mktemp -u); mkfifo "$PAUSE_FIFO"; exec 8<>"$PAUSE_FIFO"; rm -f "$PAUSE_FIFO"
  fi
  read -r -t "$1" -u 8 || true
}

# One GET /readyz over bash's /dev/tcp: no process is spawned, so polling does not slow the JVM it is timing.
readyz_ok() {
  local line
  { exec 3<>"/dev/tcp/127.0.0.1/$ADMIN_PORT"; } 2>/dev/null || return 1
  printf 'GET /readyz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' >&3
  IFS= read -r -t 5 line <&3 || { exec 3>&-; return 1; }
  exec 3>&-
  [[ $line == "HTTP/1.1 200"* ]]
}

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
mib() { awk -v k="$1" 'BEGIN {printf "%.0f", k / 1024}'; }
stat_ticks() { # awk-expression pids...: the sum over the processes of an expression of /proc/PID/stat's fields
  local expr=$1 t=0 p
  shift
  for p in "$@"; do
    [[ -r /proc/$p/stat ]] || continue
    t=$((t + $(awk "{print $expr}" "/proc/$p/stat")))
  done
  echo "$t"
}
cpu_ticks() { stat_ticks '$14 + $15' "$@"; } # pids...: user+system clock ticks of the processes themselves (not their reaped children)
sys_ticks() { stat_ticks '$15' "$@"; }       # pids...: system (kernel) clock ticks alone

thread_stats() { # pid: one line per thread group (its name without trailing numbers): threads, user+system ticks, voluntary and involuntary context switches
  local t
  for t in /proc/$1/task/*; do
    [[ -r $t/stat ]] || continue
    { read -r name <"$t/comm"; echo "${name//[ ]/_}"; sed 's/.*) //' "$t/stat"; cat "$t/status"; } 2>/dev/null |
      awk 'NR == 1 {n = $1; sub(/[-#0-9]+$/, "", n)} NR == 2 {k = $12 + $13}
           /^voluntary_ctxt_switches/ {v = $2} /^nonvoluntary_ctxt_switches/ {w = $2} END {print n, k, v, w}'
  done | awk '{t[$1] += $2; v[$1] += $3; w[$1] += $4; c[$1]++} END {for (k in t) print k, c[k], t[k], v[k], w[k]}'
}
gc_stats() { # pid: the young generation's eden capacity (KiB) and its collections so far (jstat)
  jstat -gc "$1" 2>/dev/null | awk 'NR == 1 {for (i = 1; i <= NF; i++) col[$i] = i} NR == 2 {printf "%d %d\n", $col["EC"], $col["YGC"]}'
}
thread_delta() { # before after hz requests: the groups that used ≥ 0.5 µs of CPU per request between the two thread_stats
  awk -v hz="$3" -v n="$4" 'NR == FNR {t[$1] = $3; v[$1] = $4; w[$1] = $5; next}
    n > 0 {us = ($3 - t[$1]) * 1e6 / hz / n; if (us >= 0.5) printf "%.1f %s×%d %.1f µs (%.2f / %.2f)\n", us, $1, $2, us, ($4 - v[$1]) / n, ($5 - w[$1]) / n}' \
    <(echo "$1") <(echo "$2") | sort -rn | cut -d" " -f2- | paste -sd";" - | sed 's/;/; /g'
}

# CPU used by processes that are not part of this benchmark (another build on a shared machine skews every figure).
busy_ticks() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat; }
our_ticks() { # this script and its reaped children (wrk, curl, clients), plus the servers it runs
  local self; self=$(awk '{print $14 + $15 + $16 + $17}' "/proc/$$/stat")
  # shellcheck disable=SC2046
  echo $((self + $(cpu_ticks $MOCK_PID $SLOW_PID ${SLOW_H2_PID:-} $(nginx_pids) $(zero_pids) $SIDECAR_PID ${FLOOR_PID:-} ${REDIS_PID:-} $(pgrep -x wrk) $(pgrep -f 'io.modelegress.bench.Sse'))))
}
FOREIGN_MARK=()
foreign_begin() { FOREIGN_MARK=("$(busy_ticks)" "$(our_ticks)" "$(date +%s%N)"); }
foreign_pct() { # % of one core used by other processes since foreign_begin
  local b o t
  b=$(busy_ticks); o=$(our_ticks); t=$(date +%s%N)
  awk -v db=$((b - FOREIGN_MARK[0])) -v ours=$((o - FOREIGN_MARK[1])) -v dt=$((t - FOREIGN_MARK[2])) \
      'BEGIN {f = db - ours; if (f < 0) f = 0; printf "%.0f", (dt > 0 ? f * 100 / (dt / 1e7) : 0)}'
}
wait_quiet() {
  local deadline=$((SECONDS + QUIET_WAIT)) f
  while true; do
    foreign_begin; sleep 1; f=$(foreign_pct)
    ((f < QUIET_PCT)) && return 0
    if ((SECONDS >= deadline)); then log "other processes still use ${f}% of a core; measuring anyway (see the 'other CPU' column)"; return 0; fi
    log "waiting for other processes to go quiet (${f}% of a core)"
    sleep 4
  done
}

# ---------------------------------------------------------------------------------------------------------------
# Tools and build.
ensure_tools() {
  local missing=()
  command -v wrk >/dev/null || missing+=(wrk)
  command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || missing+=(nginx)
  command -v curl >/dev/null || missing+=(curl)
  if has_phase redis; then command -v redis-server >/dev/null || missing+=(redis-server); fi
  if ((${#missing[@]})); then
    log "installing ${missing[*]} from Debian's packages"
    local sudo=""
    ((EUID == 0)) || sudo="sudo"
    $sudo apt-get update -q
    # The nginx package may try to start a system nginx on port 80; we never use it.
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "${missing[@]}"
  fi
  command -v java >/dev/null || { log "java 17 is needed"; exit 1; }
}

ensure_jars() {
  [[ -f "$SIDECAR_JAR" && -f "$BENCH_JAR" ]] && return 0
  log "building (mvn package -DskipTests)"
  if grep -q '<module>bench</module>' "$ROOT/pom.xml"; then
    (cd "$ROOT" && mvn -B -q package -DskipTests)
  else
    # bench is not (yet) a module of the root build: build both through a throwaway aggregator, so nothing is
    # installed into the local repository.
    local agg=$WORK/aggregator
    mkdir -p "$agg"
    cat >"$agg/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>io.modelegress</groupId>
  <artifactId>bench-build</artifactId>
  <version>0</version>
  <packaging>pom</packaging>
  <modules>
    <module>$(realpath --relative-to="$agg" "$ROOT")</module>
    <module>$(realpath --relative-to="$agg" "$ROOT/bench")</module>
  </modules>
</project>
POM
    mvn -B -q -f "$agg/pom.xml" package -DskipTests
  fi
}

STREAMS_ASKED=$STREAMS
SOCKETS_PER_STREAM=2
[[ $SCALE_UPSTREAM == h2 ]] && SOCKETS_PER_STREAM=1
raise_fd_limit() {
  # Over HTTP/1.1 the sidecar holds two sockets per stream (agent side and upstream side); over h2 one (the agent's),
  # the upstream side being a stream on one of a few shared connections.
  local want=$((STREAMS * 2 + 10000))
  ((want < 65536)) && want=65536
  ulimit -n "$want" 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
  log "open files limit: $(ulimit -n) (hard $(ulimit -Hn))"
  if (($(ulimit -n) < STREAMS * SOCKETS_PER_STREAM + 200)); then
    STREAMS=$((($(ulimit -n) - 200) / SOCKETS_PER_STREAM))
    log "the hard limit cannot hold $STREAMS_ASKED streams ($SOCKETS_PER_STREAM sockets each in the sidecar): holding $STREAMS"
  fi
}

# ---------------------------------------------------------------------------------------------------------------
# The three servers.
MOCK_PID=""; SLOW_PID=""; NGINX_PID=""; SIDECAR_PID=""; FLOOR_PID=""
start_mocks() {
  java -XX:+UseSerialGC -Xms64m -Xmx512m -jar "$BENCH_JAR" --port "$MOCK_PORT" --delay-ms "$DELAY_MS" \
      --sse-chunks "$SSE_CHUNKS" --chunk-interval-ms "$SSE_INTERVAL_MS" --threads "$MOCK_THREADS" \
      --stats-file "$OUT/mock-per-second.txt" >"$OUT/mock.log" 2>&1 &
  MOCK_PID=$!; PIDS+=("$MOCK_PID")
  # The streams the scale phase holds open: one chunk a second for HOLD_SECONDS.
  java -XX:+UseSerialGC -Xms64m -Xmx1g -jar "$BENCH_JAR" --port "$SLOW_PORT" --delay-ms "$DELAY_MS" \
      --sse-chunks "$HOLD_SECONDS" --chunk-interval-ms 1000 --threads 1 >"$OUT/mock-slow.log" 2>&1 &
  SLOW_PID=$!; PIDS+=("$SLOW_PID")
  wait_http "http://127.0.0.1:$MOCK_PORT$PATH_V1" 30
  wait_http "http://127.0.0.1:$SLOW_PORT$PATH_V1" 30
  if has_phase scale && [[ $SCALE_UPSTREAM == h2 ]]; then start_slow_h2; fi
}

# The scale phase's h2 upstream: the same slow mock over TLS with a throwaway self-signed certificate (the sidecar
# trusts it through tls.ca_bundle), announcing SETTINGS_MAX_CONCURRENT_STREAMS=$H2_MAX_STREAMS.
SLOW_H2_PID=""; H2_CERT=""
start_slow_h2() {
  H2_CERT=$WORK/h2-cert.pem
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=localhost \
      -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" -keyout "$WORK/h2-key.pem" -out "$H2_CERT" 2>/dev/null
  java -XX:+UseSerialGC -Xms64m -Xmx1g -jar "$BENCH_JAR" --port "$SLOW_H2_PORT" --delay-ms "$DELAY_MS" \
      --sse-chunks "$HOLD_SECONDS" --chunk-interval-ms 1000 --threads 1 --tls-cert "$H2_CERT" --tls-key "$WORK/h2-key.pem" \
      --h2-max-streams "$H2_MAX_STREAMS" >"$OUT/mock-slow-h2.log" 2>&1 &
  SLOW_H2_PID=$!; PIDS+=("$SLOW_H2_PID")
  local deadline=$((SECONDS + 30))
  until curl -sf -o /dev/null --max-time 1 --cacert "$H2_CERT" "https://127.0.0.1:$SLOW_H2_PORT$PATH_V1"; do
    ((SECONDS < deadline)) || { log "the h2 mock did not answer on $SLOW_H2_PORT"; return 1; }
    sleep 0.05
  done
}

# The top of an nginx.conf both nginx instances share (dir, worker count); the caller closes the http block.
nginx_conf_head() {
  local d=$1 user_line=""
  # Run by root, nginx would switch its workers to "nobody"; keep them as the current user.
  ((EUID == 0)) && user_line="user $(id -un) $(id -gn);"
  cat <<EOF
$user_line
worker_processes $2;
worker_rlimit_nofile 65536;
pid $d/nginx.pid;
error_log $d/logs/error.log warn;
events { worker_connections 32768; }
http {
  access_log off;
  client_body_temp_path $d/tmp/body;
  proxy_temp_path $d/tmp/proxy;
  fastcgi_temp_path $d/tmp/fastcgi;
  uwsgi_temp_path $d/tmp/uwsgi;
  scgi_temp_path $d/tmp/scgi;
EOF
}

start_nginx() {
  local d=$WORK/nginx
  mkdir -p "$d/tmp" "$d/logs"
  { nginx_conf_head "$d" 2; cat <<EOF
  upstream mock { server 127.0.0.1:$MOCK_PORT; keepalive 64; }
  upstream zero { server 127.0.0.1:$ZERO_PORT; keepalive 64; }
  server {
    listen 127.0.0.1:$NGINX_PORT;
    location /zero/ {
      proxy_pass http://zero;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
    }
    location / {
      proxy_pass http://mock;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;   # SSE must not be held back; what an LLM gateway in nginx would set
    }
  }
}
EOF
  } >"$d/nginx.conf"
  nginx -p "$d" -c "$d/nginx.conf" -e "$d/logs/error.log" -g 'daemon off;' >"$OUT/nginx.log" 2>&1 &
  NGINX_PID=$!; PIDS+=("$NGINX_PID")
  wait_http "http://127.0.0.1:$NGINX_PORT$PATH_V1" 30
}

nginx_pids() { echo "$NGINX_PID $(pgrep -P "$NGINX_PID" | tr '\n' ' ')"; }

# The zero-cost upstream: its own nginx (one worker), so its CPU is never counted as the proxy's.
ZERO_PID=""
ZERO_BODY='{"id":"chatcmpl-bench","object":"chat.completion","created":1700000000,"model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"This fixed answer costs the upstream nothing, so the proxies are measured."},"finish_reason":"stop"}],"usage":{"prompt_tokens":250,"completion_tokens":18,"total_tokens":268}}'
start_zero() {
  local d=$WORK/zero
  mkdir -p "$d/tmp" "$d/logs"
  { nginx_conf_head "$d" 1; cat <<ZEOF
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$ZERO_PORT;
    location / { default_type application/json; return 200 '$ZERO_BODY'; }
  }
}
ZEOF
  } >"$d/nginx.conf"
  nginx -p "$d" -c "$d/nginx.conf" -e "$d/logs/error.log" -g 'daemon off;' >"$OUT/zero.log" 2>&1 &
  ZERO_PID=$!; PIDS+=("$ZERO_PID")
  wait_http "http://127.0.0.1:$ZERO_PORT/zero$PATH_V1" 30
}
zero_pids() { [[ -n $ZERO_PID ]] && echo "$ZERO_PID $(pgrep -P "$ZERO_PID" | tr '\n' ' ')"; }

write_sidecar_config() { # file limits-yaml
  local h2up="" h2route="" tls=""
  if [[ -n $H2_CERT ]]; then  # the scale phase's h2 upstream (start_slow_h2)
    h2up=$'\n'"  slowh2: { url: \"https://127.0.0.1:$SLOW_H2_PORT\" }"
    h2route=$'\n'"  - { name: slowh2, prefix: /h2slow, strip_prefix: true, upstreams: [slowh2] }"
    tls=$'\n'"tls: { ca_bundle: \"$H2_CERT\" }"
  fi
  cat >"$1" <<EOF
server: { listen: 127.0.0.1:$SIDECAR_PORT, admin: 127.0.0.1:$ADMIN_PORT }
proxy: { use_environment: false }
upstreams:
  mock: { url: "http://127.0.0.1:$MOCK_PORT"${2:+, limits: $2} }
  slow: { url: "http://127.0.0.1:$SLOW_PORT" }
  zero: { url: "http://127.0.0.1:$ZERO_PORT" }$h2up$tls
routes:
  - { name: zero, prefix: /zero, upstreams: [zero] }
  - { name: mock, prefix: /v1, upstreams: [mock] }
  - { name: slow, prefix: /slow, strip_prefix: true, upstreams: [slow] }$h2route
EOF
}

START_MS=0
start_sidecar() { # config-file log-file [extra jvm flags]: sets SIDECAR_PID and START_MS (launch to /readyz 200)
  # The poll loop forks nothing (bash builtins only: $EPOCHREALTIME, /dev/tcp, read -t on a FIFO as the pause):
  # on 2 cores a `date`/`sleep`/`curl` per poll takes CPU from the starting JVM and added 0.4-0.6 s to its start.
  local t0
  usec_now; t0=$NOW_US
  # shellcheck disable=SC2086
  MODEL_EGRESS_ACCESS_LOG=$SIDECAR_ACCESS_LOG java ${JVM_FLAGS:-$SIDECAR_JVM_FLAGS} ${3:-} -jar "$SIDECAR_JAR" --config "$1" >"$2" 2>&1 &
  SIDECAR_PID=$!; PIDS+=("$SIDECAR_PID")
  until readyz_ok; do
    kill -0 "$SIDECAR_PID" 2>/dev/null || { log "sidecar exited: $(tail -5 "$2")"; return 1; }
    usec_now
    ((NOW_US - t0 < 30000000)) || { log "sidecar not ready in 30 s"; return 1; }
    pause 0.005
  done
  usec_now
  START_MS=$(((NOW_US - t0) / 1000))
}

stop_sidecar() { [[ -n "$SIDECAR_PID" ]] && stop_pid "$SIDECAR_PID"; SIDECAR_PID=""; }

# ---------------------------------------------------------------------------------------------------------------
# Load runs.
declare -A R  # R[target,c,field] = value
run_wrk() { # target url c seconds -> prints WRKRESULT line
  local c=$3 t=2
  ((c < 2)) && t=1
  local close=()
  [[ $LOAD_CONNECTION_CLOSE == 1 ]] && close=(-H "Connection: close")
  wrk -t "$t" -c "$c" -d "${4}s" --timeout 5s "${close[@]}" -s "$ROOT/bench/post.lua" "$2" 2>&1 | grep '^WRKRESULT' || true
}
field() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<" $1"; }
ms() { awk -v u="$1" 'BEGIN {printf "%.3f", u / 1000}'; }

UPSTREAM_KIND=mock  # which upstream url_of and pids_of mean; phase_load switches it to LOAD_UPSTREAM
url_of() {
  if [[ $UPSTREAM_KIND == zero ]]; then
    case $1 in
      direct) echo "http://127.0.0.1:$ZERO_PORT/zero$PATH_V1" ;;
      nginx) echo "http://127.0.0.1:$NGINX_PORT/zero$PATH_V1" ;;
      sidecar) echo "http://127.0.0.1:$SIDECAR_PORT/zero$PATH_V1" ;;
      floor) echo "http://127.0.0.1:$FLOOR_PORT/zero$PATH_V1" ;;
    esac
    return
  fi
  case $1 in
    direct) echo "http://127.0.0.1:$MOCK_PORT$PATH_V1" ;;
    nginx) echo "http://127.0.0.1:$NGINX_PORT$PATH_V1" ;;
    sidecar) echo "http://127.0.0.1:$SIDECAR_PORT$PATH_V1" ;;
    floor) echo "http://127.0.0.1:$FLOOR_PORT$PATH_V1" ;;
  esac
}
pids_of() {
  case $1 in
    direct) if [[ $UPSTREAM_KIND == zero ]]; then zero_pids; else echo "$MOCK_PID"; fi ;;
    nginx) nginx_pids ;;
    sidecar) echo "$SIDECAR_PID" ;;
    floor) echo "$FLOOR_PID" ;;
  esac
}

# The floor path: a bare Netty proxy in front of the same upstream, with the sidecar's JVM flags (see NettyFloor).
start_floor() {
  local up=$MOCK_PORT
  [[ $LOAD_UPSTREAM == zero ]] && up=$ZERO_PORT
  # shellcheck disable=SC2086
  java $LOAD_JVM_FLAGS -cp "$BENCH_JAR" io.modelegress.bench.NettyFloor --port "$FLOOR_PORT" --upstream-port "$up" \
      --threads "$(nproc)" >"$OUT/floor.log" 2>&1 &
  FLOOR_PID=$!; PIDS+=("$FLOOR_PID")
  for _ in $(seq 100); do grep -q 'listening on' "$OUT/floor.log" 2>/dev/null && return 0; sleep 0.1; done
  log "the floor proxy did not start: $(tail -3 "$OUT/floor.log")"; return 1
}

phase_load() {
  UPSTREAM_KIND=$LOAD_UPSTREAM
  local targets="direct nginx sidecar"
  if [[ $FLOOR == 1 && $LOAD_CONNECTION_CLOSE == 1 ]]; then
    log "the floor path is left out: it passes Connection: close on to the upstream (keep-alive loads only)"
  elif [[ $FLOOR == 1 ]]; then
    start_floor; targets="direct nginx floor sidecar"
  fi
  log "JIT warm-up: ${JIT_WARMUP}s at 64 connections per target"
  for target in $targets; do run_wrk "$target" "$(url_of $target)" 64 "$JIT_WARMUP" >/dev/null; done
  local hz; hz=$(getconf CLK_TCK)
  for c in $CONCURRENCIES; do
    for target in $targets; do
      local url; url=$(url_of $target)
      # A cell that other processes disturbed (over NOISY_PCT of a core) is measured again, up to NOISY_RETRIES
      # times; the least disturbed run is kept, and its figure shown in the "other CPU" column.
      local attempt line="" before=0 after=0 sbefore=0 safter=0 foreign=999 tbefore="" tafter="" gbefore="" gafter=""
      for ((attempt = 0; attempt <= NOISY_RETRIES; attempt++)); do
        wait_quiet
        run_wrk "$target" "$url" "$c" "$WARMUP" >/dev/null
        # shellcheck disable=SC2046
        local tb="" gb=""; [[ $target == sidecar || $target == floor ]] && tb=$(thread_stats "$(pids_of $target)") && gb=$(gc_stats "$(pids_of $target)")
        local b; b=$(cpu_ticks $(pids_of $target))
        # shellcheck disable=SC2046
        local sb; sb=$(sys_ticks $(pids_of $target))
        foreign_begin
        local l; l=$(run_wrk "$target" "$url" "$c" "$DURATION")
        local f; f=$(foreign_pct)
        # shellcheck disable=SC2046
        local a; a=$(cpu_ticks $(pids_of $target))
        # shellcheck disable=SC2046
        local sa; sa=$(sys_ticks $(pids_of $target))
        local ta="" ga=""; [[ -n $tb ]] && ta=$(thread_stats "$(pids_of $target)") && ga=$(gc_stats "$(pids_of $target)")
        if ((f < foreign)); then line=$l; foreign=$f; before=$b; after=$a; sbefore=$sb; safter=$sa; tbefore=$tb; tafter=$ta; gbefore=$gb; gafter=$ga; fi
        ((foreign < NOISY_PCT)) && break
        log "c=$c $target disturbed (${f}% of a core used by other processes): measuring again"
      done
      R[$target,$c,foreign]=$foreign
      log "c=$c $target: $line other_cpu=${R[$target,$c,foreign]}%"
      echo "c=$c target=$target $line" >>"$OUT/wrk-raw.txt"
      for f in rps p50_us p99_us p999_us requests non2xx connect_errors read_errors timeouts; do
        R[$target,$c,$f]=$(field "$line" "$f")
      done
      # CPU of the process under test (the mock's for "direct"), ms per 1000 requests.
      R[$target,$c,cpu]=$(awk -v t=$((after - before)) -v hz="$hz" -v n="${R[$target,$c,requests]:-0}" \
          'BEGIN {printf "%.0f", (n > 0 ? t * 1000 / hz / n * 1000 : 0)}')
      # Of that, the kernel's (system time): the socket work, which a proxy cannot avoid; the rest is the process's own.
      R[$target,$c,sys]=$(awk -v t=$((safter - sbefore)) -v hz="$hz" -v n="${R[$target,$c,requests]:-0}" \
          'BEGIN {printf "%.0f", (n > 0 ? t * 1000 / hz / n * 1000 : 0)}')
      # The JVM paths' CPU by thread group, with context switches: the event loops apart from the JIT and the collector.
      [[ -n $tbefore ]] && R[$target,$c,threads]=$(thread_delta "$tbefore" "$tafter" "$hz" "${R[$target,$c,requests]:-0}")
      # The young generation: its size decides how far each request's garbage spreads through the caches.
      [[ -n $gbefore && -n $gafter ]] && R[$target,$c,threads]+=$(awk -v b="$gbefore" -v a="$gafter" -v n="${R[$target,$c,requests]:-0}" \
          'BEGIN {split(b, x, " "); split(a, y, " "); if (n > 0) printf "; eden %.1f MiB, %.2f young collections per 1k requests", y[1] / 1024, (y[2] - x[2]) * 1000 / n}')
    done
  done
  UPSTREAM_KIND=mock
  local upstream_desc="the Java mock, ${DELAY_MS} ms delay"
  [[ $LOAD_UPSTREAM == zero ]] && upstream_desc="zero-cost upstream: nginx return 200"
  out ""
  out "### Non-streaming POST (~1 KB request, ~300 B response, $upstream_desc), ${DURATION} s per cell"
  out ""
  out "| conns | path | req/s | p50 ms | p99 ms | p99.9 ms | +p50 vs direct | +p99 vs direct | sidecar/nginx req/s | CPU ms per 1k req | of it kernel | sidecar/nginx CPU | errors | other CPU |"
  out "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  for c in $CONCURRENCIES; do
    for target in $targets; do
      local rps=${R[$target,$c,rps]:-0} p50=${R[$target,$c,p50_us]:-0} p99=${R[$target,$c,p99_us]:-0}
      local add50="" add99="" ratio="" cpuratio=""
      if [[ $target != direct ]]; then
        add50=$(awk -v a="$p50" -v b="${R[direct,$c,p50_us]:-0}" 'BEGIN {printf "%+.3f", (a - b) / 1000}')
        add99=$(awk -v a="$p99" -v b="${R[direct,$c,p99_us]:-0}" 'BEGIN {printf "%+.3f", (a - b) / 1000}')
      fi
      [[ $target == sidecar || $target == floor ]] && cpuratio=$(awk -v a="${R[$target,$c,cpu]:-0}" -v b="${R[nginx,$c,cpu]:-0}" 'BEGIN {printf "%.2f", (b > 0 ? a / b : 0)}')
      [[ $target == sidecar || $target == floor ]] && ratio=$(awk -v a="$rps" -v b="${R[nginx,$c,rps]:-0}" 'BEGIN {printf "%.2f", (b > 0 ? a / b : 0)}')
      local errs=$((${R[$target,$c,non2xx]:-0} + ${R[$target,$c,connect_errors]:-0} + ${R[$target,$c,read_errors]:-0} + ${R[$target,$c,timeouts]:-0}))
      out "| $c | $target | $(printf '%.0f' "$rps") | $(ms "$p50") | $(ms "$p99") | $(ms "${R[$target,$c,p999_us]:-0}") | $add50 | $add99 | $ratio | ${R[$target,$c,cpu]} | ${R[$target,$c,sys]} | $cpuratio | $errs | ${R[$target,$c,foreign]}% |"
    done
  done
  out ""
  out "CPU is user+system time of the process under test (mock for \"direct\", nginx master+workers, sidecar JVM), from /proc; \"of it kernel\" is its system time (the socket reads and writes), the rest is user time; wrk, the mock and the proxy share the same $(nproc) cores. Other CPU: what processes outside the benchmark used during the cell, in % of one core (0 on a quiet machine)."
  out ""
  out "| conns | path | CPU per request by thread group (≥ 0.5 µs; in brackets context switches per request, voluntary / involuntary); the young generation (jstat) |"
  out "|---:|---|---|"
  for c in $CONCURRENCIES; do
    for target in floor sidecar; do
      [[ -n ${R[$target,$c,threads]:-} ]] && out "| $c | $target | ${R[$target,$c,threads]} |"
    done
  done
  out ""
  out "Thread groups are named without their numbers: \`egress-io\` (\`floor-io\`) are the event loops, \`VM_Thread\` the serial collector, \`C2_CompilerThre\`/\`C1_CompilerThre\` the JIT; from /proc/PID/task. An involuntary switch is the kernel taking the core away (the machine is full), a voluntary one a loop with nothing to do."
  if [[ $targets == *floor* ]]; then
    out ""
    out "floor: a bare Netty proxy (\`NettyFloor\`: Netty's HTTP codecs both sides, one keep-alive upstream connection per agent connection, nothing else), with the sidecar's JVM flags; its ratio columns are its own against nginx."
    stop_pid "$FLOOR_PID"; FLOOR_PID=""
  fi
}

phase_sse() {
  local target
  for target in direct nginx sidecar; do
    wait_quiet
    java -XX:+UseSerialGC -cp "$BENCH_JAR" io.modelegress.bench.SseLatency --url "$(url_of $target)" \
        --requests "$SSE_REQUESTS" --warmup 30 --label "$target" --max-seconds 120 | tee -a "$OUT/sse-raw.txt" | grep '^SSE' >&2 || true
  done
  local line
  declare -A S
  while read -r line; do
    local label; label=$(field "$line" label)
    for f in n failures min_events ttfb_p50_us ttfb_p99_us ttlb_p50_us ttlb_p99_us; do S[$label,$f]=$(field "$line" "$f"); done
  done < <(grep '^SSE' "$OUT/sse-raw.txt")
  out ""
  out "### Streaming (SSE, $SSE_CHUNKS events ${SSE_INTERVAL_MS} ms apart after ${DELAY_MS} ms), one stream at a time, $SSE_REQUESTS streams per path"
  out ""
  out "| path | first byte p50 ms | p99 ms | last byte p50 ms | p99 ms | +first p50 vs direct | vs nginx | +last p50 vs direct | vs nginx | events/stream | failures |"
  out "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  for target in direct nginx sidecar; do
    local d1="" n1="" d2="" n2=""
    if [[ $target != direct ]]; then
      d1=$(awk -v a="${S[$target,ttfb_p50_us]:-0}" -v b="${S[direct,ttfb_p50_us]:-0}" 'BEGIN {printf "%+.3f", (a - b) / 1000}')
      d2=$(awk -v a="${S[$target,ttlb_p50_us]:-0}" -v b="${S[direct,ttlb_p50_us]:-0}" 'BEGIN {printf "%+.3f", (a - b) / 1000}')
    fi
    if [[ $target == sidecar ]]; then
      n1=$(awk -v a="${S[$target,ttfb_p50_us]:-0}" -v b="${S[nginx,ttfb_p50_us]:-0}" 'BEGIN {printf "%+.3f", (a - b) / 1000}')
      n2=$(awk -v a="${S[$target,ttlb_p50_us]:-0}" -v b="${S[nginx,ttlb_p50_us]:-0}" 'BEGIN {printf "%+.3f", (a - b) / 1000}')
    fi
    out "| $target | $(ms "${S[$target,ttfb_p50_us]:-0}") | $(ms "${S[$target,ttfb_p99_us]:-0}") | $(ms "${S[$target,ttlb_p50_us]:-0}") | $(ms "${S[$target,ttlb_p99_us]:-0}") | $d1 | $n1 | $d2 | $n2 | ${S[$target,min_events]:-?} | ${S[$target,failures]:-?} |"
  done
}

phase_scale() {
  local idle; idle=$(rss_kib "$SIDECAR_PID")
  wait_quiet
  foreign_begin
  local prefix=/slow upstream=slow
  [[ $SCALE_UPSTREAM == h2 ]] && { prefix=/h2slow; upstream=slowh2; }
  log "holding $STREAMS streams of ${HOLD_SECONDS}s through the sidecar (upstream $upstream, $SCALE_UPSTREAM)"
  # The load generator is its own process: its sockets do not count against the sidecar's open-files limit.
  java -XX:+UseSerialGC -Xms256m -Xmx1g -cp "$BENCH_JAR" io.modelegress.bench.SseHold \
      --url "http://127.0.0.1:$SIDECAR_PORT$prefix$PATH_V1" --streams "$STREAMS" --expect-events $((HOLD_SECONDS + 1)) \
      --max-seconds $((HOLD_SECONDS + 90)) >"$OUT/hold.log" 2>&1 &
  local hold=$!; PIDS+=("$hold")
  local peak=0 at_open="" fds_open="" threads_open="" up_conns="" up_streams=""
  while kill -0 "$hold" 2>/dev/null; do
    local r; r=$(rss_kib "$SIDECAR_PID")
    ((r > peak)) && peak=$r
    if [[ -z "$at_open" ]] && grep -q '^ALL_OPEN' "$OUT/hold.log"; then
      sleep 2  # a couple of chunks through every stream first
      at_open=$(rss_kib "$SIDECAR_PID")
      fds_open=$(ls "/proc/$SIDECAR_PID/fd" | wc -l)
      threads_open=$(awk '/^Threads:/ {print $2}' "/proc/$SIDECAR_PID/status")
      local scrape; scrape=$(curl -s --max-time 5 "http://127.0.0.1:$ADMIN_PORT/metrics" || true)
      up_conns=$(awk -v u="$upstream" '$1 ~ "^egress_upstream_connections_opened\\{.*upstream=\"" u "\"" {printf "%.0f", $2}' <<<"$scrape")
      up_streams=$(awk -v u="$upstream" '$1 ~ "^egress_upstream_streams\\{.*upstream=\"" u "\"" {printf "%.0f", $2}' <<<"$scrape")
    fi
    sleep 1
  done
  wait "$hold" || true
  local summary; summary=$(grep '^HOLD' "$OUT/hold.log" || echo "HOLD (no summary: see hold.log)")
  log "$summary"
  local after foreign open_cell="never all open at once"
  [[ -n "$at_open" ]] && open_cell="$(mib "$at_open") MiB"
  after=$(rss_kib "$SIDECAR_PID")
  foreign=$(foreign_pct)
  out ""
  local proto_desc="HTTP/1.1 upstream"
  [[ $SCALE_UPSTREAM == h2 ]] && proto_desc="HTTP/2 upstream over TLS, SETTINGS_MAX_CONCURRENT_STREAMS=$H2_MAX_STREAMS"
  out "### Scale: $STREAMS concurrent SSE streams (one event a second for ${HOLD_SECONDS} s) through the sidecar, $proto_desc"
  out ""
  ((STREAMS == STREAMS_ASKED)) || out "Asked for $STREAMS_ASKED streams; this machine's hard open-files limit ($(ulimit -Hn)) allows $STREAMS (the sidecar needs $SOCKETS_PER_STREAM socket(s) per stream)."
  ((STREAMS == STREAMS_ASKED)) || out ""
  out "| sidecar RSS before | with all streams open | peak | after they ended | fds with all open | upstream connections opened | upstream h2 streams with all open | threads | other CPU | client summary |"
  out "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
  out "| $(mib "$idle") MiB | $open_cell | $(mib "$peak") MiB | $(mib "$after") MiB | ${fds_open:-} | ${up_conns:-} | ${up_streams:-} | ${threads_open:-} | ${foreign}% | \`$summary\` |"
}

start_runs() { # label extra-jvm-flags: START_RUNS launches, each timed to /readyz 200, idle RSS IDLE_WAIT s later
  local label=$1 extra=$2 i times=() rss=()
  for i in $(seq "$START_RUNS"); do
    wait_quiet
    start_sidecar "$WORK/sidecar.yaml" "$OUT/sidecar-start-$i.log" "$extra"
    times+=("$START_MS")
    sleep "$IDLE_WAIT"
    rss+=("$(rss_kib "$SIDECAR_PID")")
    log "start ($label) $i: ready in ${START_MS} ms, idle RSS $(mib "${rss[-1]}") MiB"
    stop_sidecar
  done
  local st sr
  st=$(printf '%s\n' "${times[@]}" | sort -n | tr '\n' ' ')
  sr=$(printf '%s\n' "${rss[@]}" | sort -n | tr '\n' ' ')
  out "| $label | $(awk '{print $(int((NF+1)/2))}' <<<"$st") ms (${st% } ms) | $(mib "$(awk '{print $(int((NF+1)/2))}' <<<"$sr")") MiB ($(for k in $sr; do printf '%s ' "$(mib "$k")"; done)MiB) |"
}

phase_start() {
  out ""
  out "### Start and idle footprint ($START_RUNS launches each)"
  out ""
  out "| JVM | launch to /readyz 200, median (all) | idle RSS ${IDLE_WAIT} s after ready, median (all) |"
  out "|---|---|---|"
  start_runs "\`$SIDECAR_JVM_FLAGS\`" ""
  if [[ $CDS == 1 ]]; then
    # A dynamic AppCDS archive (JDK 13+), built as the container image builds it (deploy/Dockerfile): the
    # sidecar's own training run starts it on loopback, serves probes, a scrape and completions, and stops.
    local jsa=$WORK/model-egress.jsa
    rm -f "$jsa"
    # shellcheck disable=SC2086
    MODEL_EGRESS_ACCESS_LOG=OFF java $SIDECAR_JVM_FLAGS -Xlog:cds*=error -XX:ArchiveClassesAtExit="$jsa" \
      -jar "$SIDECAR_JAR" training-run >"$OUT/sidecar-cds-training.log" 2>&1 || log "training run failed: $(tail -3 "$OUT/sidecar-cds-training.log")"
    if [[ -s $jsa ]]; then
      start_runs "same + \`-XX:SharedArchiveFile=model-egress.jsa\` (AppCDS)" "-XX:SharedArchiveFile=$jsa"
      start_runs "same + AppCDS + \`-XX:TieredStopAtLevel=1\`" "-XX:SharedArchiveFile=$jsa -XX:TieredStopAtLevel=1"
      local saved=$SIDECAR_JVM_FLAGS
      SIDECAR_JVM_FLAGS=$IMAGE_JVM_FLAGS
      start_runs "the image's: \`$IMAGE_JVM_FLAGS\` + AppCDS" "-XX:SharedArchiveFile=$jsa"
      SIDECAR_JVM_FLAGS=$saved
    else
      log "no AppCDS archive was written; skipping the AppCDS rows"
    fi
  fi
}

phase_rate() {
  out ""
  out "### Rate shaping (issue 7): $RATE_CONNECTIONS connections for ${RATE_SECONDS} s through the sidecar, as the mock counts them"
  out ""
  out "| upstreams.mock.limits | wrk req/s | non-2xx | mock req/s mean | min/s | max/s | mock max concurrency |"
  out "|---|---:|---:|---:|---:|---:|---:|"
  local limits
  for limits in "{ requests_per_minute: 600 }" "{ max_concurrent: 8 }"; do
    stop_sidecar
    write_sidecar_config "$WORK/rate.yaml" "$limits"
    start_sidecar "$WORK/rate.yaml" "$OUT/sidecar-rate.log"
    local t0 t1 line
    wait_quiet
    t0=$(date +%s)
    line=$(wrk -t 2 -c "$RATE_CONNECTIONS" -d "${RATE_SECONDS}s" --timeout "$((RATE_SECONDS + 5))s" -s "$ROOT/bench/post.lua" \
        "$(url_of sidecar)" 2>&1 | grep '^WRKRESULT' || true)
    t1=$(date +%s)
    sleep 2  # the mock writes each second's line after it ends
    log "limits $limits: $line"
    # Whole seconds strictly inside the run.
    local stats
    stats=$(awk -v a="$t0" -v b="$t1" '!/^#/ && $1 > a && $1 < b - 1 {n++; s += $2; if (min == "" || $2 < min) min = $2;
        if ($2 > max) max = $2; if ($4 > mc) mc = $4} END {printf "%.1f %d %d %d", n ? s / n : 0, min, max, mc}' \
        "$OUT/mock-per-second.txt")
    read -r mean min max mc <<<"$stats"
    out "| \`$limits\` | $(printf '%.1f' "$(field "$line" rps)") | $(field "$line" non2xx) | $mean | $min | $max | $mc |"
  done
  stop_sidecar
}

phase_redis() {
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no --daemonize no >"$OUT/redis.log" 2>&1 &
  local redis_pid=$!; PIDS+=("$redis_pid"); REDIS_PID=$redis_pid
  for _ in $(seq 100); do { exec 6<>"/dev/tcp/127.0.0.1/$REDIS_PORT"; } 2>/dev/null && { exec 6>&-; break; }; sleep 0.05; done
  out ""
  out "### Fleet-shared limits (issue 17): ${REDIS_CONNECTIONS} connections, ${DURATION} s, a budget far above the load so every request is checked and none waits"
  out ""
  out "| limits.scope | req/s | p50 ms | p99 ms | +p50 vs local | +p99 vs local | CPU ms per 1k req | errors | other CPU |"
  out "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
  local hz scope base50=0 base99=0; hz=$(getconf CLK_TCK)
  for scope in local shared; do
    stop_sidecar
    write_sidecar_config "$WORK/redis.yaml" "{ requests_per_minute: 60000000, scope: $scope }"
    printf 'cluster: { redis: { url: "redis://127.0.0.1:%s", timeout: 50ms } }\n' "$REDIS_PORT" >>"$WORK/redis.yaml"
    start_sidecar "$WORK/redis.yaml" "$OUT/sidecar-redis-$scope.log"
    run_wrk sidecar "$(url_of sidecar)" 64 "$JIT_WARMUP" >/dev/null
    wait_quiet
    run_wrk sidecar "$(url_of sidecar)" "$REDIS_CONNECTIONS" "$WARMUP" >/dev/null
    local b; b=$(cpu_ticks "$SIDECAR_PID")
    foreign_begin
    local line; line=$(run_wrk sidecar "$(url_of sidecar)" "$REDIS_CONNECTIONS" "$DURATION")
    local a; a=$(cpu_ticks "$SIDECAR_PID")
    local foreign; foreign=$(foreign_pct)
    log "scope $scope: $line"
    echo "scope=$scope $line" >>"$OUT/wrk-raw.txt"
    local p50 p99 n cpu add50="" add99=""
    p50=$(field "$line" p50_us); p99=$(field "$line" p99_us); n=$(field "$line" requests)
    cpu=$(awk -v t=$((a - b)) -v hz="$hz" -v n="${n:-0}" 'BEGIN {printf "%.0f", (n > 0 ? t * 1000 / hz / n * 1000 : 0)}')
    if [[ $scope == local ]]; then base50=$p50; base99=$p99; else
      add50=$(awk -v a="$p50" -v b="$base50" 'BEGIN {printf "%+.3f", (a - b) / 1000}')
      add99=$(awk -v a="$p99" -v b="$base99" 'BEGIN {printf "%+.3f", (a - b) / 1000}')
    fi
    local errs=$(($(field "$line" non2xx) + $(field "$line" connect_errors) + $(field "$line" read_errors) + $(field "$line" timeouts)))
    out "| $scope | $(printf '%.0f' "$(field "$line" rps)") | $(ms "$p50") | $(ms "$p99") | $add50 | $add99 | $cpu | $errs | ${foreign}% |"
  done
  stop_sidecar
  stop_pid "$redis_pid"; REDIS_PID=""
  out ""
  out "Target: the shared check adds at most 0.5 ms p50 and 2 ms p99 (one round trip per request: the reservation script)."
}

phase_profile() {
  # Against the load table's upstream (the zero-cost one by default), so the profile is the proxy's own cost.
  UPSTREAM_KIND=$LOAD_UPSTREAM
  [[ -n "$SIDECAR_PID" ]] || JVM_FLAGS=$LOAD_JVM_FLAGS start_sidecar "$WORK/sidecar.yaml" "$OUT/sidecar-profile.log"
  run_wrk sidecar "$(url_of sidecar)" 64 "$PROFILE_WARMUP" >/dev/null
  local c
  for c in $PROFILE_CONCURRENCIES; do
    log "JFR: ${PROFILE_SECONDS}s at $c connections"
    wait_quiet
    jcmd "$SIDECAR_PID" JFR.start name=bench settings=profile filename="$OUT/sidecar-c$c.jfr" >/dev/null
    local line; line=$(run_wrk sidecar "$(url_of sidecar)" "$c" "$PROFILE_SECONDS")
    jcmd "$SIDECAR_PID" JFR.stop name=bench >/dev/null
    log "under JFR: $line"
    # --requests: bytes allocated per request from the threads' own counters (noise on the machine does not move it).
    java -cp "$BENCH_JAR" io.modelegress.bench.JfrTop "$OUT/sidecar-c$c.jfr" --top 30 --thread-prefix egress-io \
        --requests "$(field "$line" requests)" >"$OUT/profile-c$c.txt"
    out ""
    out "### Profile: JFR (settings=profile) of the sidecar, ${PROFILE_SECONDS} s at $c connections: $(printf '%.0f' "$(field "$line" rps)") req/s while recording"
    out ""
    out "$(grep '^ALLOC' "$OUT/profile-c$c.txt" || true)"
    out ""
    out "Full report: \`$OUT/profile-c$c.txt\` (recording: \`sidecar-c$c.jfr\`)."
    [[ -n "$ASYNC_PROFILER" ]] && async_profile "$c"
  done
  UPSTREAM_KIND=mock
}

# A CPU profile with the kernel's frames (async-profiler, loaded into the running sidecar with jcmd): JFR samples
# Java frames only, so it cannot say how much of the event loops' time is the kernel's socket work.
async_profile() { # connections
  local c=$1 file="$OUT/sidecar-c$1.collapsed"
  # jcmd would read the "=" in the options as its own name=value argument: they go in quotes
  log "async-profiler: ${PROFILE_SECONDS}s at $c connections"
  wait_quiet
  jcmd "$SIDECAR_PID" JVMTI.agent_load "$ASYNC_PROFILER" "\"start,event=cpu,interval=1ms,threads\"" >/dev/null
  local line; line=$(run_wrk sidecar "$(url_of sidecar)" "$c" "$PROFILE_SECONDS")
  jcmd "$SIDECAR_PID" JVMTI.agent_load "$ASYNC_PROFILER" "\"stop,collapsed,file=$file\"" >/dev/null
  log "under async-profiler: $line"
  # Event-loop samples: the kernel's share (a frame marked _[k]) and the top Java and native frames of the rest.
  awk -v n="$(field "$line" requests)" '
    $0 ~ /egress-io/ {
      c = $NF; t += c; stack = substr($0, 1, length($0) - length(c) - 1)
      if (stack ~ /_\[k\]/) k += c; else { m = split(stack, f, ";"); self[f[m]] += c }
    }
    END {
      if (t == 0) { print "no event-loop samples"; exit }
      printf "event-loop samples: %d (%.1f per 1k requests); kernel %.1f %%, user %.1f %%%s\n", t, (n > 0 ? t * 1000 / n : 0), 100 * k / t, 100 * (t - k) / t, (k == 0 ? " (no kernel frames: perf_events unavailable, so async-profiler fell back to a timer that sees user space only)" : "")
      for (s in self) printf "%6.2f %%  %s\n", 100 * self[s] / t, s | "sort -rn | head -25"
    }' "$file" >"$OUT/async-c$c.txt"
  out ""
  out "async-profiler (cpu, 1 ms, kernel frames included), ${PROFILE_SECONDS} s at $c connections: $(head -1 "$OUT/async-c$c.txt"). Top frames: \`$OUT/async-c$c.txt\`; stacks: \`$file\`."
}

machine() {
  out "### Machine"
  out ""
  out "- $(nproc) cores, $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo) (family $(awk -F': ' '/^cpu family/ {print $2; exit}' /proc/cpuinfo), model $(awk -F': ' '/^model\t/ {print $2; exit}' /proc/cpuinfo)), $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo) RAM, kernel $(uname -r)"
  out "- $(java -version 2>&1 | sed -n 2p); $(nginx -v 2>&1); $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2)"
  out "- load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)"
  out "- sidecar JVM flags: load, SSE and profile \`$LOAD_JVM_FLAGS\` (the image's); scale, rate, redis \`$SIDECAR_JVM_FLAGS\`; mock: $MOCK_THREADS event loop thread(s), ${DELAY_MS} ms delay"
}

# ---------------------------------------------------------------------------------------------------------------
ensure_tools
ensure_jars
raise_fd_limit
log "results: $OUT"
machine
# Every port must be free: a leftover process on one of them would be measured in place of ours.
for port in "$MOCK_PORT" "$NGINX_PORT" "$SLOW_PORT" "$SIDECAR_PORT" "$ADMIN_PORT" "$REDIS_PORT" "$ZERO_PORT" "$FLOOR_PORT"; do
  if { exec 7<>"/dev/tcp/127.0.0.1/$port"; } 2>/dev/null; then
    exec 7>&-
    log "port $port is already in use (a leftover run?): stop that process or choose other ports (see the knobs)"
    exit 1
  fi
done
start_mocks
start_zero
start_nginx
write_sidecar_config "$WORK/sidecar.yaml" ""
if has_phase start; then phase_start; fi
if has_phase load || has_phase sse; then
  JVM_FLAGS=$LOAD_JVM_FLAGS start_sidecar "$WORK/sidecar.yaml" "$OUT/sidecar.log"
fi
if has_phase load; then phase_load; fi
if has_phase sse; then phase_sse; fi
if has_phase profile; then phase_profile; fi
if has_phase scale; then
  stop_sidecar
  start_sidecar "$WORK/sidecar.yaml" "$OUT/sidecar-scale.log"
  phase_scale
fi
if has_phase rate; then phase_rate; fi
if has_phase redis; then phase_redis; fi
stop_sidecar
log "done: $RESULTS"
