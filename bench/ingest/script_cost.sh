#!/usr/bin/env bash
# What one inbound message costs Redis inside the ingest script, without HTTP
# or the gateway: a fresh redis-server with deploy/redis.conf, batches sent as
# the ingest batcher sends them. Prints Redis CPU, time inside FCALL, the
# commands run and the AOF bytes written per message.
#   bench/ingest/script_cost.sh [batches=300] [batch size=50] [returning share=0.5]
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib.sh
PASOKH_WITH_TEST_TOOLS=1 ./scripts/install-deps.sh >/dev/null
bench_workdir
start_bench_redis "$work"
node bench/ingest/script_cost.mjs "$redis_port" "$@"
