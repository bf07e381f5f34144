#!/usr/bin/env bash
# quickstart.sh - installs what is missing, builds the two programs, and runs mailwarden in
# the foreground on conf/quickstart.yaml: listening on inet:127.0.0.1:8891 with the embedded
# in-memory store (no Redis needed). Stop it with Ctrl-C. Run as root on Debian bookworm.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DMAILWARDEN_BUILD_TESTS=OFF -DMAILWARDEN_BUILD_BENCH=OFF >/dev/null
cmake --build build-release -j "$(nproc)" --target mailwarden mailwardenctl
mkdir -p /var/lib/mailwarden
echo "quickstart: mailwarden on inet:127.0.0.1:8891; attach it to Postfix with"
echo "  postconf -e 'smtpd_milters = inet:127.0.0.1:8891' 'milter_default_action = accept'"
echo "  and see its events with: build-release/ctl/mailwardenctl -c conf/quickstart.yaml events"
exec ./build-release/milter/mailwarden -c conf/quickstart.yaml --foreground
