#!/usr/bin/env bash
# Full-walk benchmark of the SNMP path, ours against its peers, side by side.
#
#   bench/snmp_walk.sh [N …]        # default: 100 1000 10000
#
# For each N, in one run on this machine, all four peers are up at once and
# walked in turn (order rotated every round), RUNS rounds (default 3),
# medians reported:
#
#   ours       examples/bench_agent (the real agent::run_until, fixture
#              SampleSource: N tunnels × 4 SAs, 10 s poll interval) through a
#              private snmpd master; the whole subtree ROOT_OID.
#   c-subagent net-snmp's C subagent: a second snmpd run as AgentX subagent
#              (`snmpd -X -I ifTable,ifXTable,interfaces`) inside a netns
#              holding N veth interfaces, serving IF-MIB through the same
#              master; its ifTable (N+1 rows incl. lo × 22 columns).
#   pass_persist  bench/pass_persist_table.py (python3) via `pass_persist` in
#              the master: N rows × 39 Counter64 columns (the shape of our
#              vtiIfTable).
#   native     snmpd's own IF-MIB, snmpd started inside the same netns (no
#              AgentX): the floor for a walk through snmpd.
#
# The master must not serve IF-MIB itself, or the subagent's registration of
# ifTable would collide with the master's own (same OID, same priority):
# the master runs with `-I -ifTable,ifXTable,interfaces` (those modules are
# not loaded), so 1.3.6.1.2.1.2 and ifXTable come only from the subagent.
#
# Measured per walk: wall time / varbinds; the serving process's CPU
# (utime+stime from /proc/PID/stat, ticks → µs) / varbinds; the master's CPU
# likewise; VmRSS after the walk. Walks are repeated K times per sample so
# each sample covers ≥ TARGET_VB varbinds (tick resolution at small N).
#
# net-snmp 5.9's master turns each GETBULK repetition into its own AgentX
# GetNext, so a walk through any AgentX subagent pays one master↔subagent
# round trip per varbind whatever the subagent does; the subagent controls
# only its own share (its CPU column).
#
# Env: RUNS (3), TARGET_VB (100000), MAX_REP (50), PAUSE_IDLE (1: SIGSTOP
# the netns snmpds while the others are walked — at 10k interfaces each
# re-reads its interface cache every few seconds, ~10% of a core, which
# would otherwise load the machine during the other peers' walks),
# PIN_CPU (unset: the scheduler places everything; a CPU number: the master,
# every serving process and the pass_persist script are pinned to that one
# CPU — on this VM a cross-CPU wake-up per varbind costs more than the
# work, see RESULTS.md), BENCH_AGENT (prebuilt binary), RESULTS
# (bench/RESULTS.md; "-" = don't append), KEEP_TMP.
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"

RUNS=${RUNS:-3}
TARGET_VB=${TARGET_VB:-100000}
MAX_REP=${MAX_REP:-50}
PAUSE_IDLE=${PAUSE_IDLE:-1}
RESULTS=${RESULTS:-$HERE/RESULTS.md}
PP_COLUMNS=39
SIZES=("$@")
[ ${#SIZES[@]} -gt 0 ] || SIZES=(100 1000 10000)

[ "$(id -u)" -eq 0 ] || die "needs root (network namespaces)"
need snmpd snmpbulkwalk snmpget ip python3
build_bench_agent
bench_tmp
trap cleanup EXIT
RAW=$BENCH_TMP/raw.tsv
: >"$RAW"
MACHINE=$(machine_line)
CPU_AT_START=$(cpu_times)
log "machine: $MACHINE"
log "busy: $(busy_procs)"

# descendant_python PID: the pass_persist interpreter under the master.
descendant_python() {
    local p c
    for p in $(pgrep -P "$1" || true); do
        c=$(cat "/proc/$p/comm" 2>/dev/null || true)
        case $c in python*) echo "$p"; return ;; esac
        descendant_python "$p"
    done
}

pause() { if [ "$PAUSE_IDLE" = 1 ]; then kill -STOP "$@" 2>/dev/null || true; fi; }
resume() { kill -CONT "$@" 2>/dev/null || true; }

bench_size() {
    local n=$1
    local dir=$BENCH_TMP/n$n ns=vtibench$$
    mkdir -p "$dir"
    log "N=$n: netns $ns with $n veth interfaces"
    make_netns "$ns" "$n"

    cat >"$dir/pp.sh" <<EOF
#!/bin/sh
exec /usr/bin/python3 $HERE/pass_persist_table.py .$PP_OID $n $PP_COLUMNS
EOF
    chmod +x "$dir/pp.sh"
    local port
    port=$(free_udp_port)
    MASTER_EXTRA_CONF="pass_persist .$PP_OID $dir/pp.sh" \
        start_master "$dir/m" "$port" -I -ifTable,ifXTable,interfaces
    local master_pid=$MASTER_PID
    start_agent "$dir/m/master" "$n" 10
    local agent_pid=$AGENT_PID

    printf 'agentXSocket unix:%s\n' "$dir/m/master" >"$dir/sub.conf"
    ip netns exec "$ns" env SNMP_PERSISTENT_DIR="$dir/sub-persist" \
        snmpd -X -f -Lf "$dir/sub.log" -C -c "$dir/sub.conf" -I ifTable,ifXTable,interfaces \
        </dev/null >/dev/null 2>&1 &
    local sub_pid=$!
    STARTED_PIDS+=("$sub_pid")

    local nport=$port   # its own namespace: the same port number is free there
    cat >"$dir/native.conf" <<EOF
rocommunity public 127.0.0.1
agentaddress udp:127.0.0.1:$nport
dontLogTCPWrappersConnects yes
EOF
    ip netns exec "$ns" env SNMP_PERSISTENT_DIR="$dir/native-persist" \
        snmpd -f -Lf "$dir/native.log" -C -c "$dir/native.conf" </dev/null >/dev/null 2>&1 &
    local native_pid=$!
    STARTED_PIDS+=("$native_pid")

    local rows=$((n + 1))   # + lo
    wait_for 120 value_is "" "$port" "$TUNNEL_COUNT_OID" "$n" ||
        die "our subtree did not show $n tunnels; agent log: $(tail -5 "$BENCH_TMP/agent.log")"
    wait_for 60 value_is "" "$port" "$IF_NUMBER" "$rows" ||
        die "C subagent's ifNumber via the master is not $rows: $(snmp_value "" "$port" "$IF_NUMBER")"
    wait_for 60 value_is "$ns" "$nport" "$IF_NUMBER" "$rows" ||
        die "native snmpd's ifNumber is not $rows"
    log "N=$n: all peers up (master $master_pid, ours $agent_pid, C subagent $sub_pid, native $native_pid)"

    # Peers: name ns port oid serving-pid master-pid(or -)
    local -A P_NS P_PORT P_OID P_PID P_MASTER P_K
    P_NS[ours]=""; P_PORT[ours]=$port; P_OID[ours]=$ROOT_OID; P_PID[ours]=$agent_pid; P_MASTER[ours]=$master_pid
    P_NS[c-subagent]=""; P_PORT[c-subagent]=$port; P_OID[c-subagent]=$IF_TABLE; P_PID[c-subagent]=$sub_pid; P_MASTER[c-subagent]=$master_pid
    P_NS[pass_persist]=""; P_PORT[pass_persist]=$port; P_OID[pass_persist]=$PP_OID; P_MASTER[pass_persist]=$master_pid
    P_NS[native]=$ns; P_PORT[native]=$nport; P_OID[native]=$IF_TABLE; P_PID[native]=$native_pid; P_MASTER[native]=-
    local peers=(ours c-subagent pass_persist native)

    # Warm-up walk of each (caches loaded, the script started, pages
    # touched); its varbind count sets K.
    local p out vb fails us
    for p in "${peers[@]}"; do
        out=$(netns_exec "${P_NS[$p]}" "$HERE/walk_loop.sh" 1 "${P_PORT[$p]}" "${P_OID[$p]}" "$MAX_REP")
        read -r _ vb fails <<<"$out"
        if [ "$fails" != 0 ] || [ "$vb" -eq 0 ]; then die "warm-up walk of $p failed ($out)"; fi
        P_K[$p]=$(( (TARGET_VB + vb - 1) / vb ))
        [ "${P_K[$p]}" -le 200 ] || P_K[$p]=200
        log "N=$n: $p warm-up: $vb varbinds/walk, K=${P_K[$p]} walks per sample"
    done
    P_PID[pass_persist]=$(descendant_python "$master_pid")
    [ -n "${P_PID[pass_persist]}" ] || die "pass_persist interpreter not found under $master_pid"
    if [ -n "${PIN_CPU:-}" ]; then
        local q
        for q in "$master_pid" "$agent_pid" "$sub_pid" "$native_pid" "${P_PID[pass_persist]}"; do
            taskset -apc "$PIN_CPU" "$q" >/dev/null
        done
        log "N=$n: master and serving processes pinned to CPU $PIN_CPU"
    fi
    pause "$sub_pid" "$native_pid"

    local r i
    for ((r = 0; r < RUNS; r++)); do
        for ((i = 0; i < ${#peers[@]}; i++)); do
            p=${peers[$(((i + r) % ${#peers[@]}))]}
            local pid=${P_PID[$p]} mpid=${P_MASTER[$p]}
            resume "$pid"
            sleep 0.2
            local c0 m0=0 c1 m1=0 u0 s0 u1 s1
            read -r u0 s0 < <(cpu_ticks_split "$pid")
            c0=$(cpu_ticks "$pid")
            [ "$mpid" = - ] || m0=$(cpu_ticks "$mpid")
            out=$(WALK_ERR=$dir/walk.err netns_exec "${P_NS[$p]}" \
                "$HERE/walk_loop.sh" "${P_K[$p]}" "${P_PORT[$p]}" "${P_OID[$p]}" "$MAX_REP")
            c1=$(cpu_ticks "$pid")
            read -r u1 s1 < <(cpu_ticks_split "$pid")
            [ "$mpid" = - ] || m1=$(cpu_ticks "$mpid")
            local rss
            rss=$(rss_kb "$pid")
            case $p in c-subagent | native) pause "$pid" ;; esac
            read -r us vb fails <<<"$out"
            printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$n" "$p" "$r" "${P_K[$p]}" "$vb" \
                "$us" "$((c1 - c0))" "$([ "$mpid" = - ] && echo - || echo $((m1 - m0)))" "$rss" "$fails" \
                "$((u1 - u0))" "$((s1 - s0))" "$(cut -d' ' -f1 /proc/loadavg)" >>"$RAW"
            log "N=$n round $((r + 1))/$RUNS $p: $vb varbinds in $((us / 1000)) ms, $((c1 - c0)) ticks, ${fails} failed walks"
        done
    done
    log "N=$n: load now $(cut -d' ' -f1-3 /proc/loadavg); busy: $(busy_procs)"
    stop_pid "$agent_pid"; stop_pid "$sub_pid"; stop_pid "$native_pid"; stop_pid "$master_pid"
    ip netns del "$ns" 2>/dev/null || true
}

for n in "${SIZES[@]}"; do
    bench_size "$n"
done

TABLE=$(python3 "$HERE/summarize_walk.py" "$RAW" "$CLK_TCK")
echo
echo "$TABLE"
if [ "$RESULTS" != - ]; then
    {
        echo
        echo "### snmp_walk.sh — $MACHINE"
        echo
        echo "Load at end: $(cut -d' ' -f1-3 /proc/loadavg); during the run: $(noise_since "$CPU_AT_START"); busiest processes: $(busy_procs)"
        echo "RUNS=$RUNS TARGET_VB=$TARGET_VB MAX_REP=$MAX_REP PAUSE_IDLE=$PAUSE_IDLE PIN_CPU=${PIN_CPU:-none}"
        echo
        echo "$TABLE"
    } >>"$RESULTS"
    log "appended to $RESULTS"
fi
cp "$RAW" "${RAW_COPY:-/dev/null}" 2>/dev/null || true
