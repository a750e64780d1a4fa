#!/bin/sh
# Web chat benchmark (see bench.mjs). PASOKH_BIN defaults to build/gateway/pasokh.
# The fd limit caps the idle sessions one process can hold: raise it as far as allowed.
ulimit -n "$(ulimit -Hn)" 2>/dev/null
exec node "$(dirname "$0")/bench.mjs" "${1:-all}"
