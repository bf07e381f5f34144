# bench/tools/bench_env.sh - sourced by bench/run.sh and bench/postfix.sh: the run
# directory and its cleanup (everything started is stopped, by pid), process and port
# helpers, redis-server and unbound (serving bench/zone.yaml, with ZONE_SED applied to its
# records when set) on loopback, and mailwarden_config (a bench config with this run's
# ports, DNS and journal). Needs: here (bench/), py, KEEP, log, die.
# shellcheck shell=bash
WORK="$(mktemp -d /tmp/mailwarden-bench.XXXXXX)"
chmod 755 "$WORK"
PIDS=()          # long-lived helpers (redis, unbound)
MPID=""          # the milter of the current row
cleanup() {
    local rc=$?
    if declare -F cleanup_hook >/dev/null; then cleanup_hook || true; fi
    [ -n "$MPID" ] && stop_pid "$MPID"
    local p
    for p in "${PIDS[@]+"${PIDS[@]}"}"; do stop_pid "$p"; done
    if [ "$KEEP" = 1 ] || [ "$rc" != 0 ]; then
        log "run directory kept: $WORK"
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

descendants() {  # $1 and every process below it
    local p c
    echo "$1"
    for c in $(pgrep -P "$1" 2>/dev/null || true); do descendants "$c"; done
}
stop_pid() {  # SIGTERM to a process and its children, bounded wait, then SIGKILL
    local pid=$1 tree i
    tree="$(descendants "$pid" | tr '\n' ' ')"
    # shellcheck disable=SC2086
    kill -TERM $tree 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    # shellcheck disable=SC2086
    kill -KILL $tree 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}
port_free() { ! ss -Hltnu "sport = :$1" | grep -q .; }
pick_port() {  # the preferred port when free, else a free one above 20000
    local p=$1 i
    port_free "$p" && { echo "$p"; return; }
    for ((i = 0; i < 200; i++)); do
        p=$((20000 + RANDOM % 30000))
        port_free "$p" && { echo "$p"; return; }
    done
    die "no free port"
}
wait_tcp() {  # host port seconds
    local i
    for ((i = 0; i < $3 * 10; i++)); do
        (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

# ------------------------------------------------------------------ redis and DNS
REDIS_PORT="$(pick_port 6379)"
setsid redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
    --dir "$WORK" > "$WORK/redis.log" 2>&1 < /dev/null &
PIDS+=($!)
wait_tcp 127.0.0.1 "$REDIS_PORT" 10 || die "redis-server did not start ($WORK/redis.log)"
rcli() { redis-cli -p "$REDIS_PORT" "$@"; }

# unbound on port 53 (the peers that only read /etc/resolv.conf cannot name a port); an
# address of its own in 127/8 so that nothing else on port 53 is disturbed.
DNS_ADDR=""
for a in 127.0.0.53 127.0.53.1 127.0.53.2 127.0.53.3; do
    if ! ss -Hlnu "src $a:53" | grep -q . && ! ss -Hlnu "sport = :53" | grep -q "0.0.0.0:53\|\*:53"; then
        DNS_ADDR=$a; break
    fi
done
[ -n "$DNS_ADDR" ] || die "no loopback address free for unbound on port 53"
{
    echo "server:"
    echo "  interface: $DNS_ADDR"
    echo "  port: 53"
    echo "  do-ip6: no"
    echo "  do-daemonize: no"
    echo "  use-syslog: no"
    echo '  username: ""'
    echo '  chroot: ""'
    echo '  pidfile: ""'
    echo "  directory: \"$WORK\""
    echo "  logfile: \"$WORK/unbound.log\""
    echo "  verbosity: 1"
    echo "  access-control: 127.0.0.0/8 allow"
    echo '  module-config: "iterator"'
    echo "  num-threads: 1"
    echo "  msg-cache-size: 16m"
    "$py" "$here/tools/zone_to_unbound.py" "$here/zone.yaml" | sed -e "${ZONE_SED:-}" -e 's/^/  /'
    echo "remote-control:"
    echo "  control-enable: no"
} > "$WORK/unbound.conf"
setsid unbound -d -c "$WORK/unbound.conf" > "$WORK/unbound.out" 2>&1 < /dev/null &
PIDS+=($!)
wait_tcp "$DNS_ADDR" 53 10 || die "unbound did not start ($WORK/unbound.out)"
echo "nameserver $DNS_ADDR" > "$WORK/resolv.conf"

# ------------------------------------------------------------------ the milters
MW_PORT="$(pick_port 18891)"
PEER_PORT="$(pick_port 18892)"
mkdir -p "$WORK/journal"
mailwarden_config() {  # $1 = source yaml: ports, DNS and journal of this run
    sed -e "s|inet:18891@127.0.0.1|inet:$MW_PORT@127.0.0.1|" \
        -e "s|^    port: 6379|    port: $REDIS_PORT|" \
        -e "s|127.0.0.53@53|$DNS_ADDR@53|" \
        -e "s|/tmp/mailwarden-bench/events.journal|$WORK/journal/events.journal|" "$1"
}
