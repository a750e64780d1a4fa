#!/usr/bin/env bash
# Ingest benchmark for the messenger webhook shapes: wrk posting Telegram
# updates (secret token header) and WhatsApp Cloud notifications (X-Hub-Signature-256
# over the exact bytes), pre-signed by webhook_bodies.mjs, each with fresh provider
# ids, against one pasokh (Redis with AOF everysec, as in run.sh), and the same
# wrk against nginx answering a static 200 in the same round. Prints messages/s,
# p50/p99 and the ratio to nginx per shape and round, with the load average.
#   bench/ingest/webhooks.sh [duration_s=8] [connections=64] [rounds=2]
# PASOKH_BIN (default build/gateway/pasokh); PASOKH_BENCH_NO_BUILD=1 skips the build.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib.sh
duration=${1:-8}
connections=${2:-64}
rounds=${3:-2}
bin=${PASOKH_BIN:-build/gateway/pasokh}
[ "${PASOKH_BENCH_NO_BUILD:-0}" = 1 ] || ./scripts/build.sh pasokh >/dev/null
command -v wrk >/dev/null || { echo "webhooks.sh needs wrk (scripts/install-deps.sh with PASOKH_WITH_TEST_TOOLS=1)" >&2; exit 1; }

bench_workdir

start_bench_redis "$work"

export BENCH_TG_SECRET=bench-tg-secret-$RANDOM BENCH_TG_TOKEN=123:bench
export BENCH_WA_APP_SECRET=bench-wa-app-secret-$RANDOM BENCH_WA_TOKEN=bench BENCH_WA_VERIFY=bench
wa_phone=106540352242922
pasokh_port=$(free_port)
cat >"$work/pasokh.json" <<JSON
{ "listen": {"address": "127.0.0.1", "port": $pasokh_port},
  "redis": {"url": "redis://127.0.0.1:$redis_port"}, "log_level": "warn",
  "channels": [
    {"id": "tg", "kind": "telegram", "team": "support",
     "provider": {"api_base": "http://127.0.0.1:9", "token_env": "BENCH_TG_TOKEN", "secret_env": "BENCH_TG_SECRET"}},
    {"id": "wa", "kind": "whatsapp", "team": "support",
     "provider": {"phone_number_id": "$wa_phone", "api_base": "http://127.0.0.1:9", "token_env": "BENCH_WA_TOKEN",
                  "app_secret_env": "BENCH_WA_APP_SECRET", "verify_token_env": "BENCH_WA_VERIFY"}}] }
JSON
start_bench_pasokh "$bin" "$work/pasokh.json"

start_bench_nginx

# Enough fresh requests for a rate well above what one pasokh reaches here.
per_run=$((duration * ${BENCH_WEBHOOK_MAX_RATE:-12000}))
gen() {  # shape count id_base file
  local secret=$BENCH_TG_SECRET
  [ "$1" = whatsapp ] && secret=$BENCH_WA_APP_SECRET
  BENCH_WA_PHONE_ID=$wa_phone node bench/ingest/webhook_bodies.mjs "$1" "$2" "$3" "$secret" "$4"
}
replay() {  # shape file seconds
  local path=/webhooks/telegram/tg header=X-Telegram-Bot-Api-Secret-Token
  [ "$1" = whatsapp ] && path=/webhooks/whatsapp/wa header=X-Hub-Signature-256
  # webhook_replay.lua splits the file by thread: it must know the thread count.
  BENCH_WEBHOOK_FILE=$2 BENCH_WEBHOOK_PATH=$path BENCH_WEBHOOK_HEADER=$header BENCH_WRK_THREADS=2 \
    wrk -t2 -c"$connections" -d"${3}s" --latency -s bench/ingest/webhook_replay.lua "http://127.0.0.1:$pasokh_port" |
    grep '^RESULT'
}

echo "generating pre-signed requests ($per_run per run)..."
base=1000000
for shape in telegram whatsapp; do
  gen "$shape" 20000 $base "$work/$shape-warm.txt"; base=$((base + 1000000))
  for r in $(seq 1 "$rounds"); do gen "$shape" "$per_run" $base "$work/$shape-$r.txt"; base=$((base + per_run)); done
done
echo "warming up..."
for shape in telegram whatsapp; do replay "$shape" "$work/$shape-warm.txt" 2 >/dev/null; done

echo
echo "webhook ingest benchmark (${duration}s per run, $connections connections, wrk -t2; pasokh $bin)"
for r in $(seq 1 "$rounds"); do
  n=$(wrk -t2 -c"$connections" -d"${duration}s" --latency -s bench/ingest/static_200.lua "http://127.0.0.1:$nginx_port/" | grep '^RESULT')
  n_rps=$(wrk_rate "$n")
  echo "round $r   load average: $(cut -d' ' -f1-3 /proc/loadavg)"
  wrk_line "nginx static 200" "$n" req/s
  for shape in telegram whatsapp; do
    p=$(replay "$shape" "$work/$shape-$r.txt" "$duration")
    wrk_line "pasokh $shape webhook" "$p" msg/s
    printf '    ratio to nginx %.3f   non-2xx %s   replayed (file ran out) %s   load %s\n' \
      "$(awk -v a="$(wrk_rate "$p")" -v b="$n_rps" 'BEGIN{print a/b}')" "$(wrk_field "$p" errors_status)" \
      "$(wrk_field "$p" wrapped)" "$(cut -d' ' -f1-3 /proc/loadavg)"
  done
done
echo
echo "stored: conversations $(redis-cli -p "$redis_port" get pasokh:next:conversation), customers $(redis-cli -p "$redis_port" get pasokh:next:customer)"
curl -s "http://127.0.0.1:$pasokh_port/metrics" | grep -E '^pasokh_inbound_messages_total|^pasokh_dedup_hits_total' | sed 's/^/  /'
