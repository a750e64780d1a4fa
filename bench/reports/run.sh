#!/usr/bin/env bash
# Reports benchmark: the summary over many conversations.
#   bench/reports/run.sh [CONVERSATIONS] [DAYS]     default 100000 conversations over 365 days
# Writes the conversations' logs straight into a throwaway Redis (each: a
# customer message, an assignment, an agent reply, a resolve), rebuilds the
# reports' index and timeline cache from the logs, then times
# GET /api/v1/reports/summary over the whole span and over its last 30 days,
# with the cache warm and cold. PASOKH_BIN overrides the binary;
# PASOKH_BENCH_NO_BUILD=1 skips the build ($PASOKH_BUILD, default build-console).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
conversations=${1:-100000}
days=${2:-365}
build=${PASOKH_BUILD:-$root/build-console}
[ -f "$build/build.ninja" ] || cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
[ "${PASOKH_BENCH_NO_BUILD:-0}" = 1 ] || ninja -C "$build" -j2 pasokh >/dev/null
bin=${PASOKH_BIN:-$build/gateway/pasokh}
source "$root/scripts/lib.sh"
bench_workdir
start_bench_redis "$work"
pasokh_port=$(free_port)
cat >"$work/pasokh.json" <<JSON
{ "listen": {"address": "127.0.0.1", "port": $pasokh_port},
  "redis": {"url": "redis://127.0.0.1:$redis_port", "command_timeout_ms": 30000}, "log_level": "warn",
  "channels": [{"id": "api", "kind": "api", "api_key_env": "BENCH_API_KEY", "team": "support"}],
  "routing": {"teams": [{"id": "support", "hours": {"timezone": "Asia/Tehran",
    "weekly": {"sat": ["09:00-17:00"], "sun": ["09:00-17:00"], "mon": ["09:00-17:00"], "tue": ["09:00-17:00"],
               "wed": ["09:00-17:00"], "thu": ["09:00-13:00"]}, "holidays": ["2025-03-21", "2025-03-22"]}}]} }
JSON
export BENCH_API_KEY=bench-api-key-0123456789
PASOKH_NEW_AGENT_PASSWORD=bench-secret-1 "$bin" --config "$work/pasokh.json" --create-agent boss,Boss,admin,support >/dev/null
PASOKH_NEW_AGENT_PASSWORD=bench-secret-2 "$bin" --config "$work/pasokh.json" --create-agent ali,Ali,agent,support >/dev/null

# The logs, written by a Lua loop inside Redis (5000 conversations a call):
# frames shaped as the conversation scripts write them.
now=$(($(date +%s) * 1000))
start=$((now - days * 86400000))
gen='
local p, first, n, t0, step = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
for i = first, first + n - 1 do
  local id, cust, t = "cv_" .. i, "cu_" .. (i % 30000), t0 + (i - 1) * step
  local function frame(seq, event, status, assignee, body)
    return "{\"type\":\"event\",\"conv\":\"" .. id .. "\",\"seq\":" .. seq .. ",\"event\":\"" .. event ..
      "\",\"conversation\":{\"id\":\"" .. id .. "\",\"channel\":\"api\",\"kind\":\"api\",\"customer_id\":\"" .. cust ..
      "\",\"status\":\"" .. status .. "\",\"priority\":\"normal\",\"assignee\":\"" .. assignee ..
      "\",\"team\":\"support\",\"seq\":" .. seq .. ",\"created_at\":" .. t .. ",\"sla_first_due\":" .. (t + 3600000) .. "}," .. body .. "}"
  end
  local key = p .. "conv:" .. id .. ":log"
  redis.call("XADD", key, "1-1", "f", frame(1, "message", "queued", "", "\"message\":{\"direction\":\"in\",\"author\":\"customer\",\"text\":\"سلام، گوشی‌ام روشن نمی‌شود\",\"created_at\":" .. t .. "}"))
  redis.call("XADD", key, "2-1", "f", frame(2, "status", "assigned", "ag_ali", "\"status\":\"assigned\",\"from\":\"queued\",\"actor\":\"system\",\"assignee\":\"ag_ali\",\"at\":" .. (t + 60000)))
  redis.call("XADD", key, "3-1", "f", frame(3, "message", "assigned", "ag_ali", "\"message\":{\"direction\":\"out\",\"author\":\"agent\",\"author_id\":\"ag_ali\",\"text\":\"لطفاً دکمه را ده ثانیه نگه دارید.\",\"created_at\":" .. (t + 600000) .. "}"))
  redis.call("XADD", key, "4-1", "f", frame(4, "status", "resolved", "ag_ali", "\"status\":\"resolved\",\"from\":\"assigned\",\"actor\":\"ag_ali\",\"at\":" .. (t + 3600000)))
  redis.call("HSET", p .. "conv:" .. id, "id", id, "channel", "api", "customer_id", cust, "team", "support", "status", "resolved", "seq", 4, "created_at", t)
  redis.call("RPUSH", p .. "cust:" .. cust .. ":conversations", id)
end
redis.call("SET", p .. "next:conversation", first + n - 1)
return n'
step=$(( (now - start) / conversations ))
gen_start=$(date +%s%N)
for ((i = 1; i <= conversations; i += 5000)); do
  n=$(( conversations - i + 1 < 5000 ? conversations - i + 1 : 5000 ))
  redis-cli -p "$redis_port" EVAL "$gen" 0 pasokh: "$i" "$n" "$start" "$step" >/dev/null
done
echo "reports benchmark: $conversations conversations over $days days written in $(( ($(date +%s%N) - gen_start) / 1000000 )) ms" \
  "(redis $(redis-cli -p "$redis_port" info memory | sed -n 's/^used_memory_human:\(.*\)\r$/\1/p'))"

start_bench_pasokh "$bin" "$work/pasokh.json"
base=http://127.0.0.1:$pasokh_port
token=$(curl -s "$base/api/v1/auth/login" -H 'content-type: application/json' \
  -d '{"login":"boss","password":"bench-secret-1"}' | sed 's/.*"token":"\([^"]*\)".*/\1/')
auth="authorization: Bearer $token"
echo "rebuild from the logs: $(curl -s -X POST -H "$auth" "$base/api/v1/admin/reports/rebuild")"
summary() {  # label, query
  local out read
  out=$(curl -s -o "$work/report.json" -w '%{time_total}' -H "$auth" "$base/api/v1/reports/summary?$2")
  read=$(sed -n 's/.*"scanned":\([0-9]*\).*/\1/p' "$work/report.json")
  printf '  %-46s %6.0f ms  %s\n' "$1" "$(echo "$out * 1000" | bc)" "${read:+($read conversations read)}"
}
year="from=$start&to=$((now + 1))&tz=Asia/Tehran"
month="from=$((now - 30 * 86400000))&to=$((now + 1))&tz=Asia/Tehran"
echo "GET /api/v1/reports/summary   load average: $(cut -d' ' -f1-3 /proc/loadavg)"
for r in 1 2 3; do summary "all $days days, by day, cache warm (run $r)" "$year&group=day"; done
summary "all $days days, CSV" "$year&format=csv"
summary "last 30 days, by day, cache warm" "$month&group=day"
redis-cli -p "$redis_port" DEL pasokh:rpt:facts >/dev/null
summary "last 30 days, by day, cache cold (folds logs)" "$month&group=day"
summary "last 30 days again (cache filled)" "$month&group=day"
