#!/usr/bin/env bash
# Search benchmark: how fast the index catches up with the conversation logs,
# what it costs in Redis memory, and how long a query takes on a big index.
#   bench/search/run.sh [CONVERSATIONS] [MESSAGES_PER_CONVERSATION]   default 50000 × 4
# Writes the conversations (each with its customer file) straight into a
# throwaway Redis, with texts drawn from a 20,000-word vocabulary of Persian
# and English words and order numbers (Zipf-like: a few words are in most
# messages, most words in few), then starts pasokh: its first leader tick
# marks every conversation for the index (the backfill) and the timer loop
# works the backlog off. Prints messages indexed per second, the gateway's CPU
# per message, the index's share of Redis memory, then GET /api/v1/search
# latency for common, rare, two-word and half-typed queries.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib.sh
conversations=${1:-50000}
per=${2:-4}
PASOKH_WITH_TEST_TOOLS=1 ./scripts/install-deps.sh >/dev/null
[ "${PASOKH_BENCH_NO_BUILD:-0}" = 1 ] || ./scripts/build.sh pasokh >/dev/null
bin=${PASOKH_BIN:-./build/gateway/pasokh}

bench_workdir
start_bench_redis "$work"
redis_pid=${pids[-1]}
pasokh_port=$(free_port)
cat >"$work/pasokh.json" <<JSON
{ "listen": {"address": "127.0.0.1", "port": $pasokh_port, "threads": 1},
  "redis": {"url": "redis://127.0.0.1:$redis_port", "command_timeout_ms": 30000}, "log_level": "warn",
  "channels": [{"id": "api", "kind": "api", "api_key_env": "BENCH_API_KEY", "team": "support"}] }
JSON
export BENCH_API_KEY=bench-api-key-0123456789
PASOKH_NEW_AGENT_PASSWORD=bench-secret-1 "$bin" --config "$work/pasokh.json" --create-agent boss,Boss,admin,support >/dev/null

# Conversations as the scripts write them: the hash, the log, the customer
# file and the reports' time index the backfill reads.
gen='
local p, first, n, per, t0 = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local syl = { "با", "سا", "را", "نو", "می", "کا", "دو", "ته", "لی", "زه", "گا", "رو", "شی", "پا", "مه", "ست",
  "ter", "mo", "ka", "li", "ro", "sen", "da", "vi" }
local function word(k)  -- the k-th word of the vocabulary
  local w = ""
  repeat w = w .. syl[(k % #syl) + 1]; k = math.floor(k / #syl) until k == 0
  return w
end
local vocab = tonumber(ARGV[6])
math.randomseed(first)
for i = first, first + n - 1 do
  local id, cust, t = "cv_" .. i, "cu_" .. i, t0 + i * 1000
  local key = p .. "conv:" .. id .. ":log"
  for seq = 1, per do
    local words = {}
    for w = 1, 8 + math.random(8) do words[w] = word(math.floor(math.exp(math.random() * math.log(vocab)))) end
    if seq == 1 then words[#words + 1] = "order" .. " " .. (100000 + i) end
    local author = seq % 2 == 1 and "customer" or "agent"
    redis.call("XADD", key, seq .. "-1", "f", "{\"type\":\"event\",\"conv\":\"" .. id .. "\",\"seq\":" .. seq ..
      ",\"event\":\"message\",\"conversation\":{\"id\":\"" .. id .. "\",\"customer_id\":\"" .. cust ..
      "\",\"team\":\"support\",\"status\":\"resolved\",\"updated_at\":" .. (t + seq) .. "},\"message\":{\"author\":\"" ..
      author .. "\",\"text\":\"" .. table.concat(words, " ") .. "\",\"created_at\":" .. (t + seq) .. "}}")
  end
  redis.call("HSET", p .. "conv:" .. id, "id", id, "channel", "api", "kind", "api", "customer_id", cust, "team", "support",
    "status", "resolved", "seq", per, "created_at", t, "updated_at", t + per)
  redis.call("HSET", p .. "cust:" .. cust, "id", cust, "name", "Customer " .. word(i), "created_at", t)
  redis.call("RPUSH", p .. "cust:" .. cust .. ":conversations", id)
  redis.call("ZADD", p .. "rpt:created", t, id)
end
return n'
now=$(($(date +%s) * 1000))
for ((i = 1; i <= conversations; i += 2000)); do
  n=$(( conversations - i + 1 < 2000 ? conversations - i + 1 : 2000 ))
  redis-cli -p "$redis_port" EVAL "$gen" 0 pasokh: "$i" "$n" "$per" "$((now - conversations * 1000))" 20000 >/dev/null
done
memory() { redis-cli -p "$redis_port" info memory | sed -n 's/^used_memory:\([0-9]*\).*/\1/p'; }
before=$(memory)
messages=$((conversations * per))
echo "search benchmark: $conversations conversations, $messages messages written (Redis $((before / 1048576)) MB)"

start=$(date +%s%N)
start_bench_pasokh "$bin" "$work/pasokh.json"
pasokh_pid=${pids[-1]}
cpu0=$(cpu_ms "$pasokh_pid") rcpu0=$(cpu_ms "$redis_pid")
backlog() {
  [ "$(redis-cli -p "$redis_port" exists pasokh:search:backfilled)" = 0 ] && { echo 1; return; }
  # Still queuing (10,000 a tick): not done whatever the backlog holds now.
  [ "$(redis-cli -p "$redis_port" exists pasokh:search:backfill_at)" = 1 ] && { echo 1; return; }
  echo $(( $(redis-cli -p "$redis_port" zcard pasokh:search:backlog) + $(redis-cli -p "$redis_port" zcard pasokh:search:dirty) ))
}
while [ "$(backlog)" != 0 ]; do sleep 0.2; done
ms=$(( ($(date +%s%N) - start) / 1000000 ))
cpu=$(( $(cpu_ms "$pasokh_pid") - cpu0 )) rcpu=$(( $(cpu_ms "$redis_pid") - rcpu0 ))
after=$(memory)
terms=$(redis-cli -p "$redis_port" zcard pasokh:search:vocab)
echo "  indexed in $ms ms: $((messages * 1000 / ms)) messages/s;" \
  "CPU per message: pasokh $(awk -v c="$cpu" -v m="$messages" 'BEGIN{printf "%.1f", c * 1000 / m}') µs," \
  "Redis $(awk -v c="$rcpu" -v m="$messages" 'BEGIN{printf "%.1f", c * 1000 / m}') µs"
echo "  index: $terms terms, $(( (after - before) / 1048576 )) MB of Redis memory" \
  "($(awk -v b="$((after - before))" -v m="$messages" 'BEGIN{printf "%.0f", b / m}') bytes per message)"

base=http://127.0.0.1:$pasokh_port
token=$(curl -s "$base/api/v1/auth/login" -H 'content-type: application/json' \
  -d '{"login":"boss","password":"bench-secret-1"}' | sed 's/.*"token":"\([^"]*\)".*/\1/')
PASOKH_URL=$base TOKEN=$token REDIS_PORT=$redis_port node bench/search/queries.mjs "$conversations"
