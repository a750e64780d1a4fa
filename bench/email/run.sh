#!/usr/bin/env bash
# Email benchmarks and fuzzing.
#   bench/email/run.sh                 both, fuzzing 60 s
#   bench/email/run.sh bench           email_bench (parse time, SMTP listener messages/s)
#   bench/email/run.sh fuzz [SECONDS]  libFuzzer over parse_email, seeded with tests/data/email
#   bench/email/run.sh pasokh [MESSAGES] [CONCURRENCY] [ROUNDS]
#                                      the same 20 KB mail into the full pasokh binary's SMTP
#                                      listener (Redis with AOF everysec), 250 only once stored;
#                                      PASOKH_BIN overrides the binary, PASOKH_BENCH_NO_BUILD=1 skips ninja
# Build dirs: $PASOKH_BUILD (default build-email) for the bench, $PASOKH_FUZZ_BUILD
# (default build-email-fuzz) for the Clang/libFuzzer build; both under the repo root.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
what=${1:-all}
seconds=${2:-60}
case "$what" in fuzz|bench|pasokh|all) ;; *) sed -n 2,10p "$0"; exit 2 ;; esac

run_bench() {
  local build=${PASOKH_BUILD:-$root/build-email}
  [ -f "$build/build.ninja" ] || cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  ninja -C "$build" -j2 email_bench
  "$build/bench/email/email_bench"
}

run_pasokh() {
  local build=${PASOKH_BUILD:-$root/build-email}
  local messages=${2:-3000} concurrency=${3:-8} rounds=${4:-2}
  [ -f "$build/build.ninja" ] || cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  [ "${PASOKH_BENCH_NO_BUILD:-0}" = 1 ] || ninja -C "$build" -j2 email_bench pasokh >/dev/null
  local bin=${PASOKH_BIN:-$build/gateway/pasokh}
  source "$root/scripts/lib.sh"
  bench_workdir
  local redis_port pasokh_port smtp_port
  start_bench_redis "$work"
  pasokh_port=$(free_port)
  smtp_port=$(free_port)
  cat >"$work/pasokh.json" <<JSON
{ "listen": {"address": "127.0.0.1", "port": $pasokh_port},
  "redis": {"url": "redis://127.0.0.1:$redis_port"}, "log_level": "warn",
  "channels": [{"id": "mail", "kind": "email", "team": "support",
    "provider": {"support_addresses": ["support@support.example"], "reply_domain": "support.example",
                 "smtp": {"address": "127.0.0.1", "port": $smtp_port, "max_connections": 1024},
                 "relay": {"host": "127.0.0.1", "port": 9, "tls": "none"}}}] }
JSON
  start_bench_pasokh "$bin" "$work/pasokh.json"
  echo "pasokh SMTP benchmark: $messages messages x $rounds rounds, $concurrency connections, pasokh $bin"
  for r in $(seq 1 "$rounds"); do
    echo "round $r   load average: $(cut -d' ' -f1-3 /proc/loadavg)"
    "$build/bench/email/email_bench" --parse-iterations 2000 --messages "$messages" --concurrency "$concurrency" \
      --target-port "$smtp_port" | sed 's/^/  /'
    echo "  load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
  done
  echo "stored: $(curl -s "http://127.0.0.1:$pasokh_port/metrics" | grep -E '^pasokh_inbound_messages_total\{channel="mail"\}' || echo none)," \
    "conversations $(redis-cli -p "$redis_port" get pasokh:next:conversation)"
}

run_fuzz() {
  local cxx
  cxx=$(command -v clang++-14 || command -v clang++ || true)
  if [ -z "$cxx" ]; then
    echo "email fuzz: no clang++ on this machine; skipping (email_fuzz_replay still replays corpora)"
    return 0
  fi
  local build=${PASOKH_FUZZ_BUILD:-$root/build-email-fuzz}
  # Instrument everything the target links (our parser, proto) for coverage; GMime stays as installed.
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DPASOKH_BUILD_TESTS=OFF -DCMAKE_CXX_FLAGS="-fsanitize=fuzzer-no-link,address,undefined" >/dev/null
  ninja -C "$build" -j2 email_parse_fuzz
  local corpus=$build/email-fuzz-corpus
  mkdir -p "$corpus"
  # The first directory collects new inputs; the fixtures are read-only seeds.
  "$build/bench/email/email_parse_fuzz" -max_total_time="$seconds" -max_len=65536 -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 "$corpus" "$root/tests/data/email"
}

case "$what" in
  bench) run_bench ;;
  fuzz) run_fuzz ;;
  pasokh) run_pasokh "$@" ;;
  all) run_bench; run_fuzz ;;
esac
