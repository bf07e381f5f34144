#!/usr/bin/env bash
# bench/run.sh [options] - the benchmark in one command.
#
# Builds mailwarden, miltload and the accept-all peer in Release (own build directory),
# starts on loopback what a run needs (redis-server; unbound serving bench/zone.yaml, the
# one DNS server every milter of the run asks), then for every workload, connection count
# and repeat starts the milter afresh, warms it up (DNS cache, connections), measures one
# miltload run and stops it, and prints one table with the medians.
#
# Workloads (all messages and envelopes from bench/data and bench/zone.yaml):
#   a  accept-only pipeline      mailwarden-accept.yaml; the 4 KB signed message
#   b  full inbound checks       mailwarden-bench.yaml; SPF + DKIM (rsa-2048, 4 KB) + DMARC +
#                                Authentication-Results + rate limit and events in Redis;
#                                clients spread over 65,536 addresses
#   c  outbound, rate limits     10,000 logins (user<N>@bench.example), 256 client addresses
#   d  bounce explanation        a 10 KB Postfix DSN as bounce(8) submits it (--non-smtp)
# Milters: mailwarden in every workload; the accept-all libmilter floor (bench/peers/
# acceptall.c) in a and b; rspamd, OpenDKIM and OpenDMARC in b when they are installed
# (--with-peers installs them from Debian). Columns: msg/s, p50, p99, CPU seconds per 1,000
# messages (utime+stime of the milter's processes from /proc/PID/stat), peak RSS (VmHWM).
#
#   --with-peers        apt-get install rspamd opendkim opendmarc first (non-interactive)
#   --no-peers          only mailwarden and the accept-all floor
#   --workloads "a b c d"   which workloads (default all)
#   --conns "16 256"    concurrent connections (default 16 and 256)
#   --seconds T         length of each measured run (default 15; bounds every run)
#   --messages N        at most N messages per measured run (default 1000000)
#   --warmup N          messages before each measured run (default 2000)
#   --per-connection K  messages per milter connection (default 10)
#   --repeat R          runs of each row, interleaved (default 1; the table shows medians)
#   --long N            then a long run: N messages at 256 connections (workload b), RSS
#                       sampled every 5 s; bounded by --long-seconds (default 1800)
#   --long-seconds T
#   --build-dir DIR     (default build-bench); --no-build uses what is there
#   --out FILE          also append the tables (markdown) to FILE
#   --keep              keep the run directory (logs, configs, JSON of every run)
# Everything listens on loopback; everything started is stopped at the end (trap), by pid.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
py=/usr/bin/python3  # Debian's python3-yaml; a pyenv/venv python may lack it

WITH_PEERS=0; NO_PEERS=0; WORKLOADS="a b c d"; CONNS="16 256"; SECONDS_PER_RUN=15
MESSAGES=1000000; WARMUP=2000; PER_CONN=10; REPEAT=1; LONG=0; LONG_SECONDS=1800
BUILD_DIR="$root/build-bench"; BUILD=1; OUT=""; KEEP=0
while [ $# -gt 0 ]; do
    case "$1" in
        --with-peers) WITH_PEERS=1; shift ;;
        --no-peers) NO_PEERS=1; shift ;;
        --workloads) WORKLOADS="$2"; shift 2 ;;
        --conns) CONNS="$2"; shift 2 ;;
        --seconds) SECONDS_PER_RUN="$2"; shift 2 ;;
        --messages) MESSAGES="$2"; shift 2 ;;
        --warmup) WARMUP="$2"; shift 2 ;;
        --per-connection) PER_CONN="$2"; shift 2 ;;
        --repeat) REPEAT="$2"; shift 2 ;;
        --long) LONG="$2"; shift 2 ;;
        --long-seconds) LONG_SECONDS="$2"; shift 2 ;;
        --build-dir) BUILD_DIR="$(realpath -m "$2")"; shift 2 ;;
        --no-build) BUILD=0; shift ;;
        --out) OUT="$(realpath -m "$2")"; shift 2 ;;
        --keep) KEEP=1; shift ;;
        -h|--help) awk 'NR > 1 && /^#/ {sub(/^# ?/, ""); print; next} NR > 1 {exit}' "$0"; exit 0 ;;
        *) echo "run.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done

log() { printf '%s run.sh: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "$*"; exit 1; }

for tool in redis-server redis-cli unbound ss setsid "$py"; do
    command -v "$tool" >/dev/null || die "$tool missing (scripts/install-deps.sh --test)"
done
[ "$(id -u)" = 0 ] || die "run as root (unbound on port 53, peers under their own users)"

# ------------------------------------------------------------------ peers (Debian)
if [ "$WITH_PEERS" = 1 ]; then
    missing=()
    for p in rspamd opendkim opendmarc; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
            missing+=("$p")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        log "installing ${missing[*]} from Debian"
        # Debian's packages would start system services; the benchmark runs its own copies
        # (policy-rc.d in containers, or the services are simply never used).
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
            "${missing[@]}" >/dev/null
    fi
fi

# ------------------------------------------------------------------ build
if [ "$BUILD" = 1 ]; then
    launcher=()
    command -v ccache >/dev/null &&
        launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
    log "building Release in $BUILD_DIR"
    cmake -S "$root" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release \
        "${launcher[@]+"${launcher[@]}"}" >/dev/null
    cmake --build "$BUILD_DIR" --target mailwarden miltload acceptall -j "${BENCH_JOBS:-2}" \
        >/dev/null
fi
MAILWARDEN="$BUILD_DIR/milter/mailwarden"
MILTLOAD="$BUILD_DIR/bench/miltload"
ACCEPTALL="$BUILD_DIR/bench/acceptall"
for b in "$MAILWARDEN" "$MILTLOAD" "$ACCEPTALL"; do
    [ -x "$b" ] || die "$b not built"
done

# ------------------------------------------------------------------ run directory, redis, DNS
# shellcheck source=tools/bench_env.sh
. "$here/tools/bench_env.sh"

peer_config() {  # $1 = template, $2 = run dir of the peer
    sed -e "s|@DIR@|$2|g" -e "s|@PORT@|$PEER_PORT|g" -e "s|@DNS@|$DNS_ADDR|g" \
        -e "s|@REDIS_PORT@|$REDIS_PORT|g" -e "s|@WORKERS@|$(nproc)|g" "$1"
}
# Runs a command in a private mount namespace whose /etc/resolv.conf names the run's
# unbound (for milters without a resolver setting of their own).
with_bench_resolver() {
    unshare -m sh -c 'mount --bind "$0" /etc/resolv.conf && exec "$@"' "$WORK/resolv.conf" "$@"
}

installed() { command -v "$1" >/dev/null 2>&1; }

start_milter() {  # $1 milter, $2 workload; sets MPID and MSOCK
    local m=$1 w=$2 dir="$WORK/$1-$2"
    rm -rf "$dir"; mkdir -p "$dir"
    case "$m" in
        mailwarden)
            local src="$here/mailwarden-bench.yaml"
            [ "$w" = a ] && src="$here/mailwarden-accept.yaml"
            mailwarden_config "$src" > "$dir/mailwarden.yaml"
            setsid "$MAILWARDEN" -f -c "$dir/mailwarden.yaml" > "$dir/log" 2>&1 < /dev/null &
            MPID=$!; MSOCK="inet:$MW_PORT@127.0.0.1"; wait_tcp 127.0.0.1 "$MW_PORT" 20 ;;
        acceptall)
            setsid "$ACCEPTALL" -p "inet:$PEER_PORT@127.0.0.1" -t 3600 > "$dir/log" 2>&1 \
                < /dev/null &
            MPID=$!; MSOCK="inet:$PEER_PORT@127.0.0.1"; wait_tcp 127.0.0.1 "$PEER_PORT" 20 ;;
        rspamd)
            peer_config "$here/peers/rspamd/rspamd.conf" "$dir" > "$dir/rspamd.conf"
            chown -R _rspamd:_rspamd "$dir"
            setsid rspamd -f -c "$dir/rspamd.conf" -u _rspamd -g _rspamd > "$dir/log" 2>&1 \
                < /dev/null &
            MPID=$!; MSOCK="inet:$PEER_PORT@127.0.0.1"; wait_tcp 127.0.0.1 "$PEER_PORT" 60 ;;
        opendkim)
            peer_config "$here/peers/opendkim.conf" "$dir" > "$dir/opendkim.conf"
            chown opendkim "$dir"
            setsid opendkim -f -x "$dir/opendkim.conf" > "$dir/log" 2>&1 < /dev/null &
            MPID=$!; MSOCK="inet:$PEER_PORT@127.0.0.1"; wait_tcp 127.0.0.1 "$PEER_PORT" 20 ;;
        opendmarc)
            peer_config "$here/peers/opendmarc.conf" "$dir" > "$dir/opendmarc.conf"
            chown opendmarc "$dir"
            setsid bash -c "$(declare -f with_bench_resolver); WORK='$WORK'; \
                with_bench_resolver opendmarc -f -c '$dir/opendmarc.conf'" > "$dir/log" 2>&1 \
                < /dev/null &
            MPID=$!; MSOCK="inet:$PEER_PORT@127.0.0.1"; wait_tcp 127.0.0.1 "$PEER_PORT" 20 ;;
        *) die "unknown milter $m" ;;
    esac || { cat "$dir/log" >&2; die "$m did not start (log above)"; }
}

cpu_ticks() {  # utime+stime of a process tree, plus what its reaped children used
    local pid total=0 f
    for pid in $(descendants "$1"); do
        read -r -a f < "/proc/$pid/stat" 2>/dev/null || continue
        # fields after the command: 14 utime, 15 stime, 16 cutime, 17 cstime (1-based)
        total=$((total + f[13] + f[14] + f[15] + f[16]))
    done
    echo "$total"
}
tree_status_kb() {  # $1 pid, $2 field of /proc/PID/status (VmHWM, VmRSS): sum over the tree
    local pid total=0 v
    for pid in $(descendants "$1"); do
        v="$(awk -v k="$2:" '$1 == k {print $2}' "/proc/$pid/status" 2>/dev/null || true)"
        total=$((total + ${v:-0}))
    done
    echo "$total"
}
tree_pss_kb() {
    local pid total=0 v
    for pid in $(descendants "$1"); do
        v="$(awk '$1 == "Pss:" {print $2}' "/proc/$pid/smaps_rollup" 2>/dev/null || true)"
        total=$((total + ${v:-0}))
    done
    echo "$total"
}
redis_calls() {  # "evalsha other" command calls so far
    rcli info commandstats | tr -d '\r' | awk -F'[:=,]' '
        /^cmdstat_/ { name = substr($1, 9); calls = $3
                      if (name == "evalsha") e += calls; else if (name != "info") o += calls }
        END { printf "%d %d\n", e, o }'
}

workload_args() {  # miltload arguments of a workload (same for every milter)
    local d="$here/data"
    case "$1" in
        a|b) echo "-m $d/signed-4k.eml --sender alice@bench-sender.example --ips 65536" ;;
        c) echo "-m $d/outbound-2k.eml --logins 10000 --login-domain bench.example --ips 256" ;;
        d) echo "-m $d/dsn-10k.eml --non-smtp --sender= --rcpt-domain local.test" ;;
    esac
}
milters_of() {  # which milters run a workload
    case "$1" in
        a) echo "mailwarden acceptall" ;;
        b)
            local list="mailwarden acceptall"
            if [ "$NO_PEERS" = 0 ]; then
                installed rspamd && list="$list rspamd"
                installed opendkim && list="$list opendkim"
                installed opendmarc && list="$list opendmarc"
            fi
            echo "$list" ;;
        c|d) echo "mailwarden" ;;
    esac
}

ROWS="$WORK/rows.jsonl"; : > "$ROWS"
HZ="$(getconf CLK_TCK)"
run_row() {  # workload milter conns rep
    local w=$1 m=$2 c=$3 rep=$4 args extra=() t0 t1 r0 r1 load json rc=0
    read -r -a args <<< "$(workload_args "$w")"
    [ "$m" = mailwarden ] && [ "$w" = b ] && extra=(--expect-header "dkim=pass")
    rcli flushall > /dev/null
    start_milter "$m" "$w"
    json="$WORK/run-$w-$m-$c-$rep.json"
    timeout 600 "$MILTLOAD" -s "$MSOCK" -c "$c" -k "$PER_CONN" -n "$WARMUP" -t 120 \
        "${args[@]}" --json > "$json.warmup" 2>&1 || log "warm-up of $m ($w, $c) had errors"
    load="$(cut -d' ' -f1-3 /proc/loadavg)"
    t0="$(cpu_ticks "$MPID")"; read -r r0e r0o <<< "$(redis_calls)"
    /usr/bin/time -f "%U %S" -o "$json.time" timeout $((SECONDS_PER_RUN + 300)) \
        "$MILTLOAD" -s "$MSOCK" -c "$c" -k "$PER_CONN" -n "$MESSAGES" -t "$SECONDS_PER_RUN" \
        "${args[@]}" "${extra[@]+"${extra[@]}"}" --expect accept --json > "$json" \
        2> "$json.err" || rc=$?
    t1="$(cpu_ticks "$MPID")"; read -r r1e r1o <<< "$(redis_calls)"
    local hwm pss
    hwm="$(tree_status_kb "$MPID" VmHWM)"; pss="$(tree_pss_kb "$MPID")"
    stop_pid "$MPID"; MPID=""
    [ "$rc" = 0 ] || log "$m ($w, $c conns): miltload exit $rc: $(head -c 300 "$json.err")"
    "$py" - "$json" "$w" "$m" "$rep" "$(( t1 - t0 ))" "$HZ" "$hwm" "$pss" "$load" \
        "$((r1e - r0e))" "$((r1o - r0o))" "$json.time" >> "$ROWS" <<'PY'
import json, sys
(path, w, m, rep, ticks, hz, hwm, pss, load, evalsha, other, timef) = sys.argv[1:]
with open(path) as f:
    text = f.read()
row = json.loads(text[text.index("{"):])
try:
    u, s = open(timef).read().split()[-2:]
    gen = float(u) + float(s)
except (OSError, ValueError):
    gen = None
row.update(workload=w, milter=m, rep=int(rep), cpu_seconds=int(ticks) / int(hz),
           rss_hwm_kb=int(hwm), pss_kb=int(pss), loadavg=load, loadgen_cpu_seconds=gen,
           redis={"evalsha": int(evalsha), "other": int(other)})
print(json.dumps(row))
PY
    "$py" - "$(tail -1 "$ROWS")" <<'PY' >&2
import json, sys
r = json.loads(sys.argv[1])
lat = r["latency_ms"]
print(f"{r['workload']} {r['milter']:10} c={r['connections']:<4} {r['messages']:>7} msgs"
      f" {r['messages_per_second']:8.0f} msg/s p50 {lat['p50']:.2f} ms p99 {lat['p99']:.2f} ms"
      f" cpu/1000 {1000 * r['cpu_seconds'] / max(r['messages'], 1):.3f}"
      f" rss {r['rss_hwm_kb'] / 1024:.1f} MB errors {r['errors']} load {r['loadavg']}")
PY
}

# ------------------------------------------------------------------ the runs
cpu_model="$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)"
header="$(printf 'mailwarden %s (%s), %s, %s x %s, kernel %s, %s\n' \
    "$(git -C "$root" describe --always --dirty 2>/dev/null || echo '?')" "$(basename "$BUILD_DIR")" \
    "$(date -u +%Y-%m-%dT%H:%MZ)" "$(nproc)" "$cpu_model" "$(uname -r)" \
    "load average at start $(cut -d' ' -f1-3 /proc/loadavg)")"
log "$header"
log "redis 127.0.0.1:$REDIS_PORT, unbound $DNS_ADDR:53, run directory $WORK"
for ((rep = 1; rep <= REPEAT; rep++)); do
    for w in $WORKLOADS; do
        for c in $CONNS; do
            for m in $(milters_of "$w"); do
                run_row "$w" "$m" "$c" "$rep"
            done
        done
    done
done

# ------------------------------------------------------------------ long run
LONG_JSON=""
if [ "$LONG" -gt 0 ]; then
    LONG_JSON="$WORK/long.json"
    log "long run: $LONG messages at 256 connections (at most $LONG_SECONDS s)"
    rcli flushall > /dev/null
    start_milter mailwarden b
    read -r -a args <<< "$(workload_args b)"
    rss_idle="$(tree_status_kb "$MPID" VmRSS)"
    "$MILTLOAD" -s "$MSOCK" -c 256 -k "$PER_CONN" -n "$WARMUP" -t 120 "${args[@]}" \
        > /dev/null 2>&1 || true
    : > "$WORK/long-rss.tsv"
    timeout $((LONG_SECONDS + 300)) "$MILTLOAD" -s "$MSOCK" -c 256 -k "$PER_CONN" -n "$LONG" \
        -t "$LONG_SECONDS" "${args[@]}" --expect accept --json > "$WORK/long-run.json" \
        2> "$WORK/long-run.err" &
    lpid=$!
    start_s=$(date +%s)
    while kill -0 "$lpid" 2>/dev/null; do
        sleep 5
        printf '%s\t%s\n' "$(( $(date +%s) - start_s ))" "$(tree_status_kb "$MPID" VmRSS)" \
            >> "$WORK/long-rss.tsv"
    done
    wait "$lpid" || log "long run: miltload exit $? ($(head -c 300 "$WORK/long-run.err"))"
    hwm="$(tree_status_kb "$MPID" VmHWM)"
    stop_pid "$MPID"; MPID=""
    "$py" - "$WORK/long-run.json" "$WORK/long-rss.tsv" "$LONG" "$rss_idle" "$hwm" \
        > "$LONG_JSON" <<'PY'
import json, sys
path, rss_path, asked, idle, hwm = sys.argv[1:]
with open(path) as f:
    text = f.read()
run = json.loads(text[text.index("{"):])
samples = [tuple(map(int, l.split())) for l in open(rss_path) if l.strip()]
print(json.dumps({
    "messages": run["messages"], "messages_requested": int(asked), "seconds": run["seconds"],
    "messages_per_second": run["messages_per_second"], "errors": run["errors"],
    "rss_idle_kb": int(idle), "rss_start_kb": samples[0][1] if samples else 0,
    "rss_end_kb": samples[-1][1] if samples else 0, "rss_hwm_kb": int(hwm),
    "samples": samples}))
PY
    "$py" - "$LONG_JSON" <<'PY' >&2
import json, sys
r = json.load(open(sys.argv[1]))
mb = lambda kb: kb / 1024
print(f"long run: {r['messages']} of {r['messages_requested']} messages in {r['seconds']:.0f} s"
      f" ({r['messages_per_second']:.0f} msg/s, {r['errors']} errors);"
      f" RSS idle {mb(r['rss_idle_kb']):.1f} MB, at 5 s {mb(r['rss_start_kb']):.1f} MB,"
      f" at the end {mb(r['rss_end_kb']):.1f} MB, peak {mb(r['rss_hwm_kb']):.1f} MB")
PY
fi

# ------------------------------------------------------------------ the table
{
    echo
    echo "$header"
    echo "miltload -k $PER_CONN, $WARMUP warm-up messages, measured runs of at most" \
        "$SECONDS_PER_RUN s / $MESSAGES messages, $REPEAT run(s) per row; redis, unbound and" \
        "the load generator on the same machine"
    echo
    if [ -n "$LONG_JSON" ]; then
        "$py" "$here/tools/bench_table.py" "$ROWS" --long "$LONG_JSON"
    else
        "$py" "$here/tools/bench_table.py" "$ROWS"
    fi
} | tee -a "${OUT:-/dev/null}"
