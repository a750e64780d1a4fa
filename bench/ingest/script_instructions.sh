#!/usr/bin/env bash
# The ingest script's cost in Redis as instructions per message, counted by
# callgrind: unlike CPU time on a shared VM (runs of one build differ by 40%
# here), the count repeats to within 1%, so it shows a small change of
# routing/src/lua/*.lua. Runs script_cost.mjs twice against a redis-server
# under callgrind, with a few batches and with more, and divides the
# difference (start-up and loading fall out).
#   bench/ingest/script_instructions.sh [batches=40] [batch size=50] [returning share=0.5]
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib.sh
batches=${1:-40} size=${2:-50} returning=${3:-0.5}
PASOKH_WITH_TEST_TOOLS=1 ./scripts/install-deps.sh valgrind >/dev/null

instructions() {  # batches -> Redis instructions for the whole run
  local dir port pid
  dir=$(mktemp -d) port=$(free_port)
  valgrind --tool=callgrind --callgrind-out-file="$dir/out" redis-server deploy/redis.conf --port "$port" \
    --bind 127.0.0.1 --dir "$dir" >"$dir/log" 2>&1 &
  pid=$!
  for _ in $(seq 1 300); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
  node bench/ingest/script_cost.mjs "$port" "$1" "$size" "$returning" >/dev/null
  redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true
  wait "$pid" || true
  sed -n 's/^totals: *//p' "$dir/out"
  rm -rf "$dir"
}

few=$(instructions 10)
more=$(instructions $((10 + batches)))
echo "ingest.lua: $(( (more - few) / (batches * size) )) Redis instructions per message" \
  "(calls of $size, ${returning} from returning customers)"
