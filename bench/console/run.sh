#!/bin/sh
# Console benchmark (see bench.mjs): main-thread ms per live message as the
# inbox grows. Needs build/gateway/pasokh (or PASOKH_BIN) and /usr/bin/chromium
# (or CHROMIUM_PATH); the node modules of tests/ (npm ci there).
exec node "$(dirname "$0")/bench.mjs" "$@"
