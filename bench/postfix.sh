#!/usr/bin/env bash
# bench/postfix.sh [options] - what a milter costs a real Postfix.
#
# Postfix's smtp-source pushes the bench's 4 KB rsa-2048-signed message (bench/data/
# signed-4k.eml, -F) over S parallel SMTP sessions into a private Postfix on loopback (own
# config and queue directories under the run directory; the system's /etc/postfix is not
# touched) whose only transport is discard:. The clock runs from the first connection until
# the queue is empty again, so each figure includes smtpd, the milter, cleanup, qmgr and
# delivery. Modes, interleaved run by run so that outside load spreads over all of them:
#   none        Postfix alone
#   acceptall   the accept-all libmilter program (bench/peers/acceptall.c) in smtpd_milters
#   mailwarden  mailwarden with the full inbound checks of bench/mailwarden-bench.yaml (SPF,
#               DKIM, DMARC, Authentication-Results, rate limit, events in Redis) in
#               smtpd_milters and non_smtpd_milters; the client 127.0.0.1 is not trusted
#               here (so the checks run) and the bench zone's SPF record allows it
# Prints one table: messages/s, its share of Postfix alone, CPU seconds per 1,000 messages of
# the milter and of Postfix, and what mailwarden added to the messages (dkim=pass count).
#
#   -m MSGS         messages per run (default 5000)
#   -s SESSIONS     parallel SMTP sessions (default 16)
#   -r REPEATS      runs per mode (default 3; the table shows medians)
#   --modes LIST    from: none acceptall mailwarden (default all three)
#   --build-dir DIR (default build-bench; built in Release unless --no-build)
#   --no-build
#   --out FILE      also append the table (markdown) to FILE
#   --keep          keep the run directory
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
py=/usr/bin/python3

MSGS=5000; SESS=16; REPEATS=3; MODES="none acceptall mailwarden"
BUILD_DIR="$root/build-bench"; BUILD=1; OUT=""; KEEP=0
while [ $# -gt 0 ]; do
    case "$1" in
        -m) MSGS="$2"; shift 2 ;;
        -s) SESS="$2"; shift 2 ;;
        -r) REPEATS="$2"; shift 2 ;;
        --modes) MODES="$2"; shift 2 ;;
        --build-dir) BUILD_DIR="$(realpath -m "$2")"; shift 2 ;;
        --no-build) BUILD=0; shift ;;
        --out) OUT="$(realpath -m "$2")"; shift 2 ;;
        --keep) KEEP=1; shift ;;
        -h|--help) awk 'NR > 1 && /^#/ {sub(/^# ?/, ""); print; next} NR > 1 {exit}' "$0"; exit 0 ;;
        *) echo "postfix.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done

log() { printf '%s postfix.sh: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "$*"; exit 1; }

for tool in postfix postconf smtp-source redis-server redis-cli unbound ss setsid "$py"; do
    command -v "$tool" >/dev/null || die "$tool missing (scripts/install-deps.sh --test)"
done
[ "$(id -u)" = 0 ] || die "run as root (a private Postfix, unbound on port 53)"
getent passwd postfix >/dev/null && getent group postdrop >/dev/null ||
    die "the postfix user or postdrop group is missing (install the postfix package)"

if [ "$BUILD" = 1 ]; then
    launcher=()
    command -v ccache >/dev/null &&
        launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
    log "building Release in $BUILD_DIR"
    cmake -S "$root" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release \
        "${launcher[@]+"${launcher[@]}"}" >/dev/null
    cmake --build "$BUILD_DIR" --target mailwarden acceptall -j "${BENCH_JOBS:-2}" >/dev/null
fi
MAILWARDEN="$BUILD_DIR/milter/mailwarden"
ACCEPTALL="$BUILD_DIR/bench/acceptall"
for b in "$MAILWARDEN" "$ACCEPTALL"; do
    [ -x "$b" ] || die "$b not built"
done

# The SMTP client is 127.0.0.1: let the bench sender's SPF record authorise it.
ZONE_SED='s|ip4:10.0.0.0/8|ip4:10.0.0.0/8 ip4:127.0.0.0/8|'
# shellcheck source=tools/bench_env.sh
. "$here/tools/bench_env.sh"

PF="$WORK/postfix"
SMTP_PORT="$(pick_port 12025)"
pf_running=0
pf_stop() {
    [ "$pf_running" = 1 ] || return 0
    pf_running=0
    timeout 30 postfix -c "$PF/conf" stop >/dev/null 2>&1 || true
    local i
    for ((i = 0; i < 100; i++)); do
        [ -s "$PF/queue/pid/master.pid" ] || break
        kill -0 "$(tr -d ' ' < "$PF/queue/pid/master.pid")" 2>/dev/null || break
        sleep 0.1
    done
    timeout 10 postfix -c "$PF/conf" abort >/dev/null 2>&1 || true
}
cleanup_hook() { pf_stop; }

pf_start() {  # $1 = milter address or "" for none
    pf_stop
    rm -rf "$PF"
    mkdir -p "$PF/conf" "$PF/queue" "$PF/data"
    chown postfix "$PF/data"; chmod 700 "$PF/data"
    cat > "$PF/conf/main.cf" <<EOF
compatibility_level = 3.6
queue_directory = $PF/queue
data_directory = $PF/data
mail_owner = postfix
setgid_group = postdrop
maillog_file = $PF/maillog
maillog_file_prefixes = $WORK
myhostname = mx.local.test
mydomain = local.test
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
biff = no
smtp_dns_support_level = disabled
smtpd_tls_security_level = none
default_transport = discard:bench
relay_transport = discard:bench
local_transport = discard:bench
relay_domains = static:ALL
smtpd_relay_restrictions = permit_mynetworks, reject
smtpd_milters = $1
non_smtpd_milters = $1
milter_default_action = tempfail
milter_protocol = 6
milter_header_checks = regexp:$PF/conf/milter_header_checks
EOF
    # Logs one line per message that the milter gave a passing DKIM result (counted below).
    printf '%s\n' '/^Authentication-Results:.*dkim=pass/ WARN bench-dkim-pass' \
        > "$PF/conf/milter_header_checks"
    cat > "$PF/conf/master.cf" <<EOF
127.0.0.1:$SMTP_PORT inet n - n - - smtpd
pickup    unix  n - n 60 1 pickup
cleanup   unix  n - n - 0 cleanup
qmgr      unix  n - n 300 1 qmgr
rewrite   unix  - - n - - trivial-rewrite
bounce    unix  - - n - 0 bounce
defer     unix  - - n - 0 bounce
trace     unix  - - n - 0 bounce
verify    unix  - - n - 1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n - - proxymap
error     unix  - - n - - error
retry     unix  - - n - - error
discard   unix  - - n - - discard
anvil     unix  - - n - 1 anvil
scache    unix  - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
EOF
    postconf -c "$PF/conf" -n >/dev/null
    postfix -c "$PF/conf" start >/dev/null 2>&1 || die "postfix did not start ($PF/maillog)"
    pf_running=1
    wait_tcp 127.0.0.1 "$SMTP_PORT" 30 || die "postfix does not listen ($PF/maillog)"
}
queue_count() {
    find "$PF/queue/incoming" "$PF/queue/active" "$PF/queue/deferred" "$PF/queue/maildrop" \
        -type f 2>/dev/null | wc -l
}
wait_empty() {  # bounded by $1 seconds
    local end=$(( $(date +%s) + $1 ))
    while [ "$(queue_count)" -gt 0 ]; do
        [ "$(date +%s)" -ge "$end" ] && return 1
        sleep 0.05
    done
}
pf_cpu() {  # ticks of the master, its reaped children and its live children
    local m f total pid
    m="$(tr -d ' ' < "$PF/queue/pid/master.pid" 2>/dev/null)" || { echo 0; return; }
    read -r -a f < "/proc/$m/stat" 2>/dev/null || { echo 0; return; }
    total=$(( f[13] + f[14] + f[15] + f[16] ))
    for pid in $(pgrep -P "$m" 2>/dev/null || true); do
        read -r -a f < "/proc/$pid/stat" 2>/dev/null || continue
        total=$(( total + f[13] + f[14] ))
    done
    echo "$total"
}
milter_cpu() {  # ticks of a process tree (0 without one)
    [ -n "$1" ] || { echo 0; return; }
    local pid f total=0
    for pid in $(descendants "$1"); do
        read -r -a f < "/proc/$pid/stat" 2>/dev/null || continue
        total=$(( total + f[13] + f[14] ))
    done
    echo "$total"
}
discarded() { grep -c 'relay=none.*status=sent' "$PF/maillog" 2>/dev/null || true; }

start_mode() {  # $1 mode: sets MPID and ADDR
    MPID=""; ADDR=""
    case "$1" in
        none) ;;
        acceptall)
            local port; port="$(pick_port 18893)"
            setsid "$ACCEPTALL" -p "inet:$port@127.0.0.1" -t 3600 > "$WORK/acceptall.log" \
                2>&1 < /dev/null &
            MPID=$!; ADDR="inet:127.0.0.1:$port"; wait_tcp 127.0.0.1 "$port" 20 ||
                die "acceptall did not start" ;;
        mailwarden)
            # The SMTP client is 127.0.0.1: untrusted here, so that the inbound checks run.
            mailwarden_config "$here/mailwarden-bench.yaml" |
                sed -e 's|^trusted_networks: .*|trusted_networks: []|' > "$WORK/mailwarden.yaml"
            setsid "$MAILWARDEN" -f -c "$WORK/mailwarden.yaml" > "$WORK/mailwarden.log" 2>&1 \
                < /dev/null &
            MPID=$!; ADDR="inet:127.0.0.1:$MW_PORT"; wait_tcp 127.0.0.1 "$MW_PORT" 20 ||
                die "mailwarden did not start ($WORK/mailwarden.log)" ;;
        *) die "unknown mode $1" ;;
    esac
}

MESSAGE="$here/data/signed-4k.eml"
SENDER=alice@bench-sender.example
HZ="$(getconf CLK_TCK)"
ROWS="$WORK/rows.tsv"; : > "$ROWS"
header="$(printf 'mailwarden %s, %s, %s x %s, postfix %s, load average at start %s' \
    "$(git -C "$root" describe --always --dirty 2>/dev/null || echo '?')" \
    "$(date -u +%Y-%m-%dT%H:%MZ)" "$(nproc)" \
    "$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)" \
    "$(postconf -d mail_version 2>/dev/null | awk '{print $3}')" \
    "$(cut -d' ' -f1-3 /proc/loadavg)")"
log "$header"
for ((r = 1; r <= REPEATS; r++)); do
    for mode in $MODES; do
        redis-cli -p "$REDIS_PORT" flushall >/dev/null
        start_mode "$mode"
        pf_start "$ADDR"
        # warm-up: smtpd and cleanup processes, milter connections, the DNS cache
        timeout 300 smtp-source -s "$SESS" -m 200 -F "$MESSAGE" -f "$SENDER" \
            -t warm@discard.example "127.0.0.1:$SMTP_PORT" 2> "$WORK/warm.err" || true
        wait_empty 120 || die "warm-up did not drain ($PF/maillog)"
        before="$(discarded)"; pass0="$(grep -c 'bench-dkim-pass' "$PF/maillog" 2>/dev/null || true)"
        c0="$(milter_cpu "$MPID")"; p0="$(pf_cpu)"; load="$(cut -d' ' -f1 /proc/loadavg)"
        t0="$(date +%s.%N)"; rc=0
        timeout 900 smtp-source -s "$SESS" -m "$MSGS" -F "$MESSAGE" -f "$SENDER" \
            -t bench@discard.example "127.0.0.1:$SMTP_PORT" 2> "$WORK/src.err" || rc=$?
        wait_empty 900 || log "$mode: the queue did not drain within 900 s"
        t1="$(date +%s.%N)"
        c1="$(milter_cpu "$MPID")"; p1="$(pf_cpu)"
        sleep 0.3  # the last log lines
        got=$(( $(discarded) - before ))
        pass=$(( $(grep -c 'bench-dkim-pass' "$PF/maillog" 2>/dev/null || true) - pass0 ))
        pf_stop
        [ -n "$MPID" ] && { stop_pid "$MPID"; MPID=""; }
        printf '%s\t%d\t%d\t%s\t%s\t%d\t%d\t%d\t%s\t%s\n' "$mode" "$r" "$got" "$t0" "$t1" \
            $((c1 - c0)) $((p1 - p0)) "$rc" "$load" "$pass" >> "$ROWS"
        log "$mode run $r: $got of $MSGS discarded in $(awk -v a="$t0" -v b="$t1" \
            'BEGIN{printf "%.2f", b - a}') s (smtp-source exit $rc, load $load)"
        [ "$got" -eq "$MSGS" ] || log "WARNING: $mode run $r delivered $got of $MSGS ($WORK)"
    done
done

"$py" - "$ROWS" "$MSGS" "$HZ" "$SESS" "$header" <<'PY' | tee -a "${OUT:-/dev/null}"
import statistics, sys
path, msgs, hz, sess, header = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
runs = {}
for line in open(path):
    mode, r, got, t0, t1, mc, pc, rc, load, passed = line.rstrip("\n").split("\t")
    secs = float(t1) - float(t0)
    runs.setdefault(mode, []).append(dict(rate=int(got) / secs, got=int(got), secs=secs,
        milter=int(mc) / hz * 1000 / max(int(got), 1), postfix=int(pc) / hz * 1000 / max(int(got), 1),
        rc=int(rc), load=load, passed=int(passed)))
print()
print(header)
print(f"smtp-source -s {sess} -m {msgs} -F bench/data/signed-4k.eml -> private Postfix on"
      " loopback -> discard:; until the queue is empty")
print()
print("| mode | runs | msg/s (median) | msg/s (each run) | vs Postfix alone | milter CPU s /1000 msg |"
      " Postfix CPU s /1000 msg | delivered | with dkim=pass from the milter | load at start |")
print("|---|---|---|---|---|---|---|---|---|---|")
base = statistics.median(r["rate"] for r in runs["none"]) if "none" in runs else None
for mode, rs in runs.items():
    rate = statistics.median(r["rate"] for r in rs)
    share = f"{100 * rate / base:.0f} %" if base else "-"
    milter = "-" if mode == "none" else f"{statistics.median(r['milter'] for r in rs):.2f}"
    each = " ".join(str(round(r["rate"])) for r in rs)
    print(f"| {mode} | {len(rs)} | {rate:.0f} | {each} |"
          f" {share} | {milter} | {statistics.median(r['postfix'] for r in rs):.2f} |"
          f" {sum(r['got'] for r in rs)} of {msgs * len(rs)} | {sum(r['passed'] for r in rs)} |"
          f" {' '.join(r['load'] for r in rs)} |")
if base and "mailwarden" in runs:
    share = statistics.median(r["rate"] for r in runs["mailwarden"]) / base
    print()
    print(f"Target of issue 7: mailwarden keeps >= 80 % of Postfix alone: {100 * share:.0f} %"
          f" ({'met' if share >= 0.8 else 'NOT met'})")
PY
