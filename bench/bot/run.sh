#!/usr/bin/env bash
# Pasokh's FAQ bot and NLP.js on the same knowledge base and evaluation sets,
# in one run, side by side. Builds bot_eval and installs node-nlp if needed.
#
#   bench/bot/run.sh [--kb kb.json] [--set eval.jsonl]...
#
# Defaults: the shared test KB and dev set (/work/shared/faq) plus Pasokh's own
# held-out sets in tests/data/bot (two of them Persian typed in Latin letters).
# BUILD_DIR (default build-bot) and JOBS (default 2) control the build.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=${BUILD_DIR:-$repo/build-bot}

kb=/work/shared/faq/kb.json
sets=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --kb) kb=$2; shift 2 ;;
    --set) sets+=("$2"); shift 2 ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
if [[ ${#sets[@]} -eq 0 ]]; then
  [[ -f /work/shared/faq/eval-dev.jsonl ]] && sets+=(/work/shared/faq/eval-dev.jsonl)
  sets+=("$repo/tests/data/bot/eval-own.jsonl" "$repo/tests/data/bot/eval-own-far.jsonl"
         "$repo/tests/data/bot/eval-finglish.jsonl" "$repo/tests/data/bot/eval-finglish-heldout.jsonl")
fi
[[ -f $kb ]] || { echo "knowledge base not found: $kb (pass --kb)" >&2; exit 2; }
set_args=()
for s in "${sets[@]}"; do set_args+=(--set "$s"); done

echo "== building bot_eval in $build"
[[ -f $build/build.ninja ]] || cmake -S "$repo" -B "$build" -G Ninja >/dev/null
ninja -C "$build" -j"${JOBS:-2}" bot_eval >/dev/null

if [[ ! -d $here/node_modules/node-nlp ]]; then
  echo "== installing node-nlp (bench/bot/node_modules)"
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
fi

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

echo
"$build/bench/bot/bot_eval" --kb "$kb" "${set_args[@]}" --loo --json "$out/pasokh.json"
echo
echo "== training NLP.js on the same KB (all three languages) and classifying the same lines"
node "$here/nlpjs_eval.mjs" --kb "$kb" "${set_args[@]}" --json "$out/nlpjs.json"
echo
node "$here/compare.mjs" "$out/pasokh.json" "$out/nlpjs.json"
