#!/usr/bin/env bash
# test.sh - installs what is missing (compilers, libraries, redis-server, postfix, unbound,
# ...), builds, and runs every test: unit, integration (real Redis and DNS servers on
# loopback), conformance (../shared/corpora), e2e (a private real Postfix), bench-smoke.
# Run as root on Debian bookworm. Extra arguments go to ctest (e.g. -L unit).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh --test
./scripts/build.sh build-test RelWithDebInfo
# Tests that start servers pick free loopback ports, so two run at once; e2e tests run alone.
ctest --test-dir build-test --output-on-failure --timeout 600 -j 2 "$@"
