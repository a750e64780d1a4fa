#!/usr/bin/env bash
# Ingest benchmark: wrk posting API-channel messages (many customers and
# conversations) at pasokh, and the same wrk against nginx answering a static
# 200, in one run. Prints messages/s, p50/p99 and the ratio to nginx; then the
# end-to-end latency from POST to the agent's WebSocket frame at a fixed rate,
# with evenly spaced and with Poisson (bursty) arrivals.
#   bench/ingest/run.sh [duration_s=10] [connections=64] [rate=5000]
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib.sh
duration=${1:-10}
connections=${2:-64}
rate=${3:-5000}
# One I/O thread by default: on 2 cores shared with Redis and wrk, a second
# thread costs more in wake-ups and lock hand-offs than it adds (measured:
# ~30% more gateway CPU per message at the same rate).
threads=${PASOKH_THREADS:-1}
PASOKH_WITH_TEST_TOOLS=1 ./scripts/install-deps.sh >/dev/null
[ "${PASOKH_BENCH_NO_BUILD:-0}" = 1 ] || ./scripts/build.sh pasokh e2e_latency >/dev/null

bench_workdir

start_bench_redis "$work"
redis_pid=${pids[-1]}

pasokh_port=$(free_port)
cat >"$work/pasokh.json" <<JSON
{ "listen": {"address": "127.0.0.1", "port": $pasokh_port, "threads": $threads},
  "redis": {"url": "redis://127.0.0.1:$redis_port"}, "log_level": "warn",
  "channels": [{"id": "api", "kind": "api", "api_key_env": "BENCH_API_KEY"}] }
JSON
export BENCH_API_KEY=bench-api-key-0123456789-$RANDOM
export BENCH_AGENT_PASSWORD=bench-pass-$RANDOM
bin=${PASOKH_BIN:-./build/gateway/pasokh}  # another build for an A/B
PASOKH_NEW_AGENT_PASSWORD=$BENCH_AGENT_PASSWORD "$bin" --config "$work/pasokh.json" --create-agent bench,Bench,admin >/dev/null
start_bench_pasokh "$bin" "$work/pasokh.json"
pasokh_pid=${pids[-1]}

start_bench_nginx

run_wrk() {  # url script
  wrk -t2 -c"$connections" -d"${duration}s" --latency -s "$2" "$1" | grep '^RESULT'
}

echo "warming up..."
wrk -t2 -c"$connections" -d2s -s bench/ingest/post_messages.lua "http://127.0.0.1:$pasokh_port" >/dev/null
redis_cpu0=$(cpu_ms "$redis_pid") pasokh_cpu0=$(cpu_ms "$pasokh_pid")
p=$(run_wrk "http://127.0.0.1:$pasokh_port" bench/ingest/post_messages.lua)
redis_cpu=$(($(cpu_ms "$redis_pid") - redis_cpu0)) pasokh_cpu=$(($(cpu_ms "$pasokh_pid") - pasokh_cpu0))
n=$(run_wrk "http://127.0.0.1:$nginx_port/" bench/ingest/static_200.lua)

echo
echo "ingest benchmark (${duration}s, $connections connections, wrk -t2; pasokh $threads I/O thread(s), nginx 2 workers)"
wrk_line "pasokh API channel" "$p" msg/s
echo "    non-2xx $(wrk_field "$p" errors_status)"
per_message() { awk -v ms="$1" -v n="$(wrk_field "$p" requests)" 'BEGIN{printf "%.1f", ms * 1000 / n}'; }
echo "    CPU per message: Redis $(per_message "$redis_cpu") µs, pasokh $(per_message "$pasokh_cpu") µs"
wrk_line "nginx static 200" "$n" req/s
printf '  %-28s %10.2f\n' "ratio pasokh/nginx" "$(awk -v a="$(wrk_rate "$p")" -v b="$(wrk_rate "$n")" 'BEGIN{print a/b}')"
echo "  pasokh I/O threads: $threads; Redis AOF rewrites so far: $(redis-cli -p "$redis_port" info persistence | sed -n 's/^aof_rewrites:\([0-9]*\).*/\1/p'), last fork $(redis-cli -p "$redis_port" info stats | sed -n 's/^latest_fork_usec:\([0-9]*\).*/\1/p') µs"
conversations=$(redis-cli -p "$redis_port" get pasokh:next:conversation)
used_memory=$(redis-cli -p "$redis_port" info memory | sed -n 's/^used_memory:\([0-9]*\).*/\1/p')
echo "  conversations in Redis: $conversations, customers: $(redis-cli -p "$redis_port" get pasokh:next:customer), dedup keys: $(redis-cli -p "$redis_port" --scan --pattern 'pasokh:dedup:*' | wc -l)"
echo "  Redis memory: $((used_memory / 1048576)) MB, $(awk -v m="$used_memory" -v c="$conversations" 'BEGIN{printf "%.1f", m / c / 1024}') kB per conversation (with its customer, messages and keys)"
echo "  script calls: $(redis-cli -p "$redis_port" info commandstats | sed -n 's/^cmdstat_fcall:calls=\([0-9]*\).*/\1/p') FCALL in all (every script; group commit puts many messages in one ingest call)"

echo
echo "end-to-end latency, POST → agent WebSocket frame, at $rate messages/s:"
for pacing in even poisson; do
  PASOKH_URL="http://127.0.0.1:$pasokh_port" ./build/bench/ingest/e2e_latency "$rate" 5 "$pacing"
done
