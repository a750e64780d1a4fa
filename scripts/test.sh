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
# Unit tests in parallel; then the tests that run whole processes one at a
# time, so that timing on a 2-core machine stays far from every deadline.
ctest --test-dir build --output-on-failure -j2 --timeout 600 -LE 'integration|e2e' "$@"
ctest --test-dir build --output-on-failure -j1 --timeout 600 -L 'integration|e2e' "$@"
