#!/usr/bin/env bash
# Email benchmarks and fuzzing.
#   bench/email/run.sh                 both, fuzzing 60 s
#   bench/email/run.sh bench           email_bench (parse time, SMTP listener messages/s)
#   bench/email/run.sh fuzz [SECONDS]  libFuzzer over parse_email, seeded with tests/data/email
# Build dirs: $PASOKH_BUILD (default build-email) for the bench, $PASOKH_FUZZ_BUILD
# (default build-email-fuzz) for the Clang/libFuzzer build; both under the repo root.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
what=${1:-all}
seconds=${2:-60}
[ "$what" = "fuzz" ] || [ "$what" = "bench" ] || [ "$what" = "all" ] || { sed -n 2,7p "$0"; exit 2; }

run_bench() {
  local build=${PASOKH_BUILD:-$root/build-email}
  [ -f "$build/build.ninja" ] || cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  ninja -C "$build" -j2 email_bench
  "$build/bench/email/email_bench"
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
  all) run_bench; run_fuzz ;;
esac
