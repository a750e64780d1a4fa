#!/bin/sh
# Agent inbox benchmark (see bench.mjs): an agent's hello→welcome time, the
# welcome's size, the gateway's memory and the resync time as a team's open
# conversations grow. Needs build/gateway/pasokh (or PASOKH_BIN) and the node
# modules of tests/ (npm ci there).
exec node "$(dirname "$0")/bench.mjs" "$@"
