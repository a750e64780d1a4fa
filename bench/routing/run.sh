#!/usr/bin/env bash
# Routing benchmark.
#  1. routing_bench (C++, the routing Lua scripts on a real redis-server):
#     200 agents, 10,000 queued conversations -> assignments/s when everyone
#     comes online, then ingest + route of 10,000 new conversations.
#  2. enqueue_latency.mjs: pasokh + WebSocket agents -> time from a new
#     customer's POST to the assigned agent's WebSocket frame.
#   bench/routing/run.sh [agents=200] [conversations=10000] [rate=200] [ws_agents=20]
# Build dir: $PASOKH_BUILD (default build) under the repo root.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib.sh
agents=${1:-200}
conversations=${2:-10000}
rate=${3:-200}
ws_agents=${4:-20}
build=${PASOKH_BUILD:-build}
[ -f "$build/build.ninja" ] || cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
[ "${PASOKH_BENCH_NO_BUILD:-0}" = 1 ] || ninja -C "$build" -j2 routing_bench pasokh >/dev/null
(cd tests && [ -d node_modules ] || npm ci --no-audit --no-fund --loglevel=error)

bench_workdir

start_bench_redis "$work"

"$build/bench/routing/routing_bench" "redis://127.0.0.1:$redis_port" "$agents" "$conversations"
redis-cli -p "$redis_port" flushall >/dev/null

pasokh_port=$(free_port)
cat >"$work/pasokh.json" <<JSON
{ "listen": {"address": "127.0.0.1", "port": $pasokh_port, "threads": 2},
  "redis": {"url": "redis://127.0.0.1:$redis_port"}, "log_level": "warn",
  "routing": {"reassign_after_s": 0, "teams": [{"id": "support", "name": "Support", "strategy": "least_loaded"}]},
  "channels": [{"id": "api", "kind": "api", "api_key_env": "BENCH_API_KEY"}] }
JSON
export BENCH_API_KEY=bench-api-key-0123456789-$RANDOM
export BENCH_ADMIN_PASSWORD=bench-pass-$RANDOM
PASOKH_NEW_AGENT_PASSWORD=$BENCH_ADMIN_PASSWORD "$build/gateway/pasokh" --config "$work/pasokh.json" --create-agent bench,Bench,admin >/dev/null
start_bench_pasokh "$build/gateway/pasokh" "$work/pasokh.json"
echo
echo "enqueue → agent WebSocket event (pasokh, 2 threads, real Redis with AOF):"
PASOKH_URL="http://127.0.0.1:$pasokh_port" node bench/routing/enqueue_latency.mjs "$rate" 5 "$ws_agents"
