# shellcheck shell=bash
# Shared helpers for bench/*.sh (sourced, not run). Loopback and network
# namespaces created here only; every wait is bounded in count and time.
# Processes started here are recorded by PID and stopped by PID on exit.

ROOT_OID=1.3.6.1.4.1.8072.9999.9999.2741
export TUNNEL_COUNT_OID=$ROOT_OID.1.1.4.0
export PP_OID=1.3.6.1.4.1.8072.9999.9999.7741   # pass_persist peer (playpen)
export IF_TABLE=1.3.6.1.2.1.2.2
export IF_NUMBER=1.3.6.1.2.1.2.1.0
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
CLK_TCK=$(getconf CLK_TCK)
export MIBS="" MIBDIRS=/nonexistent

STARTED_PIDS=()
CREATED_NETNS=()
BENCH_TMP=""

die() { echo "error: $*" >&2; exit 1; }
log() { echo "[$(date +%T)] $*" >&2; }

need() {
    local t
    for t in "$@"; do
        command -v "$t" >/dev/null 2>&1 || [ -x "/usr/sbin/$t" ] ||
            die "$t not found (apt-get install snmpd snmp iproute2 python3)"
    done
}

bench_tmp() {
    BENCH_TMP=$(mktemp -d /tmp/vti-bench.XXXXXX)
    chmod 755 "$BENCH_TMP"
}

# is_our_child PID: PID is alive and a child of this shell (so a recorded
# PID that exited and was reused by someone else's process is never signalled).
is_our_child() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    # shellcheck disable=SC2086
    set -- $stat
    [ "$2" = "$$" ]
}

cleanup() {
    local pid ns live=()
    for pid in "${STARTED_PIDS[@]}"; do
        is_our_child "$pid" && live+=("$pid")
    done
    for pid in "${live[@]}"; do
        kill -CONT "$pid" 2>/dev/null || true
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${live[@]}"; do
        local i
        for i in $(seq 1 50); do is_our_child "$pid" || break; sleep 0.1; done
        if is_our_child "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
    done
    for ns in "${CREATED_NETNS[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
    if [ -n "$BENCH_TMP" ] && [ -z "${KEEP_TMP:-}" ]; then rm -rf "$BENCH_TMP"; fi
}

# stop_pid PID: TERM, wait ≤ 5 s, KILL.
stop_pid() {
    local pid=$1 i
    is_our_child "$pid" || { wait "$pid" 2>/dev/null || true; return 0; }
    kill -CONT "$pid" 2>/dev/null || true
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 1 50); do is_our_child "$pid" || break; sleep 0.1; done
    if is_our_child "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
    wait "$pid" 2>/dev/null || true
}

free_udp_port() {
    python3 -c 'import socket;s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM);s.bind(("127.0.0.1",0));print(s.getsockname()[1])'
}

# cpu_ticks PID: utime+stime (all threads) in clock ticks.
cpu_ticks() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || { echo 0; return; }
    # Fields after the ")" of comm: utime = 14, stime = 15 overall.
    stat=${stat##*) }
    # shellcheck disable=SC2086
    set -- $stat
    echo $(( ${12} + ${13} ))
}

# cpu_ticks_split PID: "utime stime" in clock ticks.
cpu_ticks_split() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || { echo "0 0"; return; }
    stat=${stat##*) }
    # shellcheck disable=SC2086
    set -- $stat
    echo "${12} ${13}"
}

ticks_to_us() { echo $(( $1 * 1000000 / CLK_TCK )); }

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

# The client flags for probes (short timeout: a probe sent before snmpd
# listens is simply lost, UDP gets no error).
SNMP_ARGS=(-v2c -c public -On -t 1 -r 0)

# netns_exec NS CMD…: CMD in namespace NS, or in ours when NS is empty.
netns_exec() {
    local ns=$1; shift
    if [ -n "$ns" ]; then ip netns exec "$ns" "$@"; else "$@"; fi
}

# wait_for SECS CMD…: run CMD every 0.2 s until it succeeds or SECS pass.
wait_for() {
    local secs=$1; shift
    local deadline=$((SECONDS + secs))
    while [ $SECONDS -lt $deadline ]; do
        if "$@" >/dev/null 2>&1; then return 0; fi
        sleep 0.2
    done
    return 1
}

# snmp_value NS PORT OID: the value of OID (empty on failure).
snmp_value() {
    netns_exec "$1" snmpget "${SNMP_ARGS[@]}" -Oqv "127.0.0.1:$2" "$3" 2>/dev/null || true
}

value_is() { [ "$(snmp_value "$1" "$2" "$3")" = "$4" ]; }

# start_master DIR PORT [snmpd args…]: a private AgentX master on
# unix:DIR/master and udp:127.0.0.1:PORT. Extra config lines from
# $MASTER_EXTRA_CONF. Sets MASTER_PID.
start_master() {
    local dir=$1 port=$2; shift 2
    mkdir -p "$dir"
    cat >"$dir/master.conf" <<EOF
master agentx
agentXSocket unix:$dir/master
agentXPerms 0660 0770
rocommunity public 127.0.0.1
agentaddress udp:127.0.0.1:$port
dontLogTCPWrappersConnects yes
${MASTER_EXTRA_CONF:-}
EOF
    SNMP_PERSISTENT_DIR="$dir/persist" snmpd -f -Lf "$dir/master.log" -C -c "$dir/master.conf" \
        "$@" </dev/null >/dev/null 2>&1 &
    MASTER_PID=$!
    STARTED_PIDS+=("$MASTER_PID")
    wait_for 10 snmpget "${SNMP_ARGS[@]}" "127.0.0.1:$port" 1.3.6.1.2.1.1.3.0 ||
        die "master snmpd did not answer; log: $(cat "$dir/master.log")"
}

# start_agent MASTER_SOCKET N [INTERVAL]: bench_agent; sets AGENT_PID.
start_agent() {
    local sock=$1 n=$2 interval=${3:-10}
    RUST_LOG=${RUST_LOG:-warn} "$BENCH_AGENT" --master "unix:$sock" --tunnels "$n" \
        --interval "$interval" </dev/null >>"$BENCH_TMP/agent.log" 2>&1 &
    AGENT_PID=$!
    STARTED_PIDS+=("$AGENT_PID")
}

# start_served DIR N INTERVAL SECS: a private master on a free port with
# bench_agent (N tunnels, INTERVAL s polls) behind it, waited for (≤ SECS)
# until it serves all N. Sets SERVED_PORT, MASTER_PID and AGENT_PID.
start_served() {
    local dir=$1 n=$2 interval=$3 secs=$4
    SERVED_PORT=$(free_udp_port)
    start_master "$dir" "$SERVED_PORT"
    start_agent "$dir/master" "$n" "$interval"
    wait_for "$secs" value_is "" "$SERVED_PORT" "$TUNNEL_COUNT_OID" "$n" ||
        die "agent never served $n tunnels; log: $(tail -5 "$BENCH_TMP/agent.log")"
}

# make_netns NAME N: a namespace with lo up and N veth interfaces (N/2 pairs).
make_netns() {
    local ns=$1 n=$2 i
    ip netns del "$ns" 2>/dev/null || true
    ip netns add "$ns"
    CREATED_NETNS+=("$ns")
    ip -n "$ns" link set lo up
    local batch="$BENCH_TMP/$ns.batch"
    : >"$batch"
    for ((i = 0; i < n / 2; i++)); do echo "link add va$i type veth peer name vb$i"; done >"$batch"
    [ $((n % 2)) -eq 1 ] && echo "link add vx0 type ifb" >>"$batch"
    ip -n "$ns" -batch "$batch"
}

# build_bench_agent: release build of examples/bench_agent; sets BENCH_AGENT.
build_bench_agent() {
    if [ -z "${BENCH_AGENT:-}" ]; then
        (cd "$REPO" && cargo build --release --quiet --example bench_agent) ||
            die "cargo build failed"
        BENCH_AGENT="$REPO/target/release/examples/bench_agent"
    fi
    [ -x "$BENCH_AGENT" ] || die "no $BENCH_AGENT"
}

machine_line() {
    local load
    load=$(cut -d' ' -f1-3 /proc/loadavg)
    echo "$(date -u +%Y-%m-%dT%H:%MZ), nproc $(nproc), kernel $(uname -r), $(snmpd -v 2>/dev/null | awk '/version/ {print "net-snmp " $NF; exit}'), load avg $load"
}

# cpu_times: "busy steal total" clock ticks over all CPUs since boot (/proc/stat).
cpu_times() {
    awk '/^cpu / {t = 0; for (i = 2; i <= NF; i++) t += $i; print t - $5 - $6, $9, t}' /proc/stat
}

# noise_since "busy steal total": CPU busy % and steal % of all CPUs since then.
noise_since() {
    local b0 s0 t0 b1 s1 t1
    read -r b0 s0 t0 <<<"$1"
    read -r b1 s1 t1 < <(cpu_times)
    local dt=$((t1 - t0 > 0 ? t1 - t0 : 1))
    echo "machine busy $(((b1 - b0) * 100 / dt)) % of $(nproc) CPUs, steal $(((s1 - s0) * 100 / dt)) %"
}

# busy_procs: the top CPU users right now (noise report).
busy_procs() {
    ps -eo pcpu,comm --sort=-pcpu | awk 'NR>1 && NR<=5 {printf "%s %s%%; ", $2, $1}'
}
