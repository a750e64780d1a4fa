#!/usr/bin/env bash
# Runs every test: installs what is missing (apt, npm), builds, and runs the
# unit, integration and browser tests through CTest. Each integration test
# starts its own redis-server and pasokh processes on free loopback ports and
# stops them when it ends.
set -euo pipefail
cd "$(dirname "$0")/.."

PASOKH_WITH_TEST_TOOLS=1 ./scripts/install-deps.sh
(cd tests && npm ci --no-audit --no-fund --loglevel=error)
./scripts/build.sh
ctest --test-dir build --output-on-failure -j2 --timeout 600 "$@"
