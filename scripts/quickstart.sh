#!/usr/bin/env bash
# quickstart.sh - installs what is missing, builds, and runs mailwarden in the foreground on
# conf/quickstart.yaml: listening on inet:127.0.0.1:8891 with the embedded in-memory store
# (no Redis needed). Stop it with Ctrl-C. Run as root on Debian bookworm.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
./scripts/build.sh build Release
mkdir -p /var/lib/mailwarden
echo "quickstart: mailwarden on inet:127.0.0.1:8891; attach it with"
echo "  postconf -e 'smtpd_milters = inet:127.0.0.1:8891' 'milter_default_action = accept'"
exec ./build/milter/mailwarden -c conf/quickstart.yaml --foreground
