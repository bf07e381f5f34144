#!/usr/bin/env bash
# nodelay_compare.sh [BUILD_DIR] [RUNS] - what TCP_NODELAY on the milter's sockets buys.
#
# Starts mailwarden (memory store; every accepted message gets the X-Mailwarden header, a
# modification sent before the final reply) three ways: as shipped (TCP_NODELAY on
# accepted sockets), with Nagle forced back on through no_nodelay_preload.c, and on a unix
# socket (no Nagle at all); drives each with miltload at 16 connections, 10 messages per
# connection, and prints messages/s and latency percentiles. Loopback only; every process
# is stopped by pid; every wait is bounded.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
build="${1:-$here/../../build}"
runs="${2:-3}"
daemon="$build/milter/mailwarden"
miltload="$build/bench/miltload"
for f in "$daemon" "$miltload"; do
    [ -x "$f" ] || { echo "missing $f (build the mailwarden and miltload targets)" >&2; exit 2; }
done
work="$(mktemp -d /tmp/mw-nodelay-XXXXXX)"
pid=""
cleanup() {
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid"; fi
    rm -rf "$work"
}
trap cleanup EXIT
gcc -O2 -shared -fPIC -o "$work/no_nodelay.so" "$here/no_nodelay_preload.c" -ldl
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
cat > "$work/cfg.yaml" <<CFG
listen: "inet:$port@127.0.0.1"
store: { backend: memory }
events: { journal: $work/events.journal }
CFG

run() {  # run MODE MESSAGES
    local mode="$1" n="$2" sock="inet:$port@127.0.0.1" pre=() extra=()
    case "$mode" in
        nagle) pre=(env "LD_PRELOAD=$work/no_nodelay.so") ;;
        unix) sock="unix:$work/m.sock"; extra=(-p "$sock"); rm -f "$work/m.sock" ;;
    esac
    "${pre[@]}" "$daemon" -c "$work/cfg.yaml" --foreground "${extra[@]}" > "$work/$mode.log" 2>&1 &
    pid=$!
    for _ in $(seq 100); do
        if [ "$mode" = unix ]; then [ -S "$work/m.sock" ] && break
        else (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; fi
        sleep 0.05
    done
    "$miltload" --socket "$sock" -c 16 -n "$n" --per-connection 10 --json > "$work/$mode.json"
    kill -TERM "$pid"
    for _ in $(seq 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
    pid=""
    python3 - "$mode" "$work/$mode.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[2]))
l = j["latency_ms"]
print(f"| {sys.argv[1]:8} | {j['messages']:6} | {j['messages_per_second']:8.0f} | {l['p50']:7.2f} "
      f"| {l['p90']:7.2f} | {l['p99']:7.2f} | {l['max']:7.1f} | {j['header_edits']:6} | {j['errors']} |")
PY
}

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) CPUs"
echo "| socket   | msgs   | msg/s    | p50 ms  | p90 ms  | p99 ms  | max ms  | hdrs   | errors |"
echo "|---|---|---|---|---|---|---|---|---|"
for _ in $(seq "$runs"); do
    run nodelay 20000
    run nagle 3000
    run unix 20000
done
