#!/usr/bin/env bash
# Quick start: installs what is missing, builds, starts a local Redis (AOF on,
# data in var/redis) unless PASOKH_REDIS_URL is set, loads the demo data and
# runs Pasokh in the foreground. Ctrl-C stops Pasokh and the Redis it started.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

./scripts/install-deps.sh
./scripts/build.sh pasokh

mkdir -p var/redis
redis_pid=""
cleanup() {
  [ -n "$redis_pid" ] && kill "$redis_pid" 2>/dev/null && wait "$redis_pid" 2>/dev/null
  true
}
trap cleanup EXIT INT TERM

redis_note="yours"
if [ -z "${PASOKH_REDIS_URL:-}" ]; then
  redis_note="started here, data in var/redis"
  redis_port=$(free_port)
  redis-server deploy/redis.conf --port "$redis_port" --bind 127.0.0.1 --dir "$PWD/var/redis" \
    --daemonize no >var/redis/redis.log 2>&1 &
  redis_pid=$!
  wait_for_redis "$redis_port"
  export PASOKH_REDIS_URL="redis://127.0.0.1:$redis_port"
fi

# Secrets for the demo are generated once and kept in var/demo.env (mode 600).
if [ ! -f var/demo.env ]; then
  umask 077
  {
    echo "PASOKH_DEMO_API_KEY=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')"
    echo "PASOKH_WEBCHAT_SECRET=$(head -c 32 /dev/urandom | base64 | tr -d '/+=')"
  } > var/demo.env
fi
set -a; source var/demo.env; set +a

port=${PASOKH_PORT:-8080}
# Generated from deploy/demo.json on every start (edit that file, not this one).
sed "s/\"port\": 8080/\"port\": $port/" deploy/demo.json > var/pasokh-demo.json

echo
./build/gateway/pasokh --config var/pasokh-demo.json --seed-demo
cat <<INFO

Pasokh demo
  agent console   http://127.0.0.1:$port/console/
  demo shop page  http://127.0.0.1:$port/demo/
  metrics         http://127.0.0.1:$port/metrics
  redis           $PASOKH_REDIS_URL ($redis_note)
  API channel     curl -X POST http://127.0.0.1:$port/api/v1/channels/api/messages \\
                    -H "Authorization: Bearer $PASOKH_DEMO_API_KEY" -H 'Content-Type: application/json' \\
                    -d '{"message_id":"m1","customer":{"id":"c1","name":"Sara"},"text":"سلام، گارانتی گوشی چقدره؟"}'
INFO
./build/gateway/pasokh --config var/pasokh-demo.json
