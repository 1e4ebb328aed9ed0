#!/usr/bin/env bash
# Endurance (bounded; loopback only): the real agent (examples/bench_agent,
# fixture data) against a private snmpd master.
#
#   bench/soak.sh                # full: 100 restarts, 10 walkers × 60 s, 10 min fuzz
#   SOAK_SHORT=1 bench/soak.sh   # smoke: 5 restarts, 10 walkers × 10 s, 30 s fuzz
#
# (i)   RESTARTS snmpd restarts (SIGTERM, then a new snmpd on the same socket
#       and port, as VyOS does on every SNMP commit) while a walker loops
#       over our subtree. Per restart: time from spawning snmpd to snmpd
#       answering, and to our subtree answering with all tunnels
#       (re-registration); HOLD seconds of walking between restarts.
#       After losing a session of ≥ 10 s the agent retries every 250 ms for
#       10 s (a restart); after shorter sessions its backoff stays escalated
#       (deliberate: a master that keeps dropping us is not hammered), so
#       HOLD < 10 measures the escalated case.
# (ii)  WALKERS concurrent snmpbulkwalk loops for WALK_SECS: walks, errors,
#       agent RSS at start and end.
# (iii) FUZZ_SECS of `cargo fuzz run pdu_decode` (the AgentX PDU decoder),
#       if fuzz/ exists and cargo-fuzz is installed: execs and crashes.
#       New corpus entries go to a temp dir (the repo corpus seeds it).
#
# Env: SOAK_SHORT, RESTARTS, HOLD, RESTART_TUNNELS (100), WALKERS (10),
# WALK_SECS, WALK_TUNNELS (1000), FUZZ_SECS (0 = skip), BENCH_AGENT,
# RESULTS (bench/RESULTS.md; "-" = don't append), PHASES ("1 2 3").
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"

if [ -n "${SOAK_SHORT:-}" ]; then
    RESTARTS=${RESTARTS:-5} HOLD=${HOLD:-2} WALK_SECS=${WALK_SECS:-10} FUZZ_SECS=${FUZZ_SECS:-30}
fi
RESTARTS=${RESTARTS:-100}
HOLD=${HOLD:-11}
RESTART_TUNNELS=${RESTART_TUNNELS:-100}
WALKERS=${WALKERS:-10}
WALK_SECS=${WALK_SECS:-60}
WALK_TUNNELS=${WALK_TUNNELS:-1000}
FUZZ_SECS=${FUZZ_SECS:-600}
RESULTS=${RESULTS:-$HERE/RESULTS.md}
read -r -a PHASES <<<"${PHASES:-1 2 3}"

need snmpd snmpbulkwalk snmpget python3
build_bench_agent
bench_tmp
trap cleanup EXIT
MACHINE=$(machine_line)
CPU_AT_START=$(cpu_times)
log "machine: $MACHINE"
REPORT=()

# walker LOOPFILE PORT EXPECTED STOPFILE: bulkwalks our subtree until
# STOPFILE exists (bounded: at most 100000 walks); one line per walk:
# "rc varbinds".
walker() {
    local out=$1 port=$2 stop=$4 i n rc
    for ((i = 0; i < 100000; i++)); do
        [ -e "$stop" ] && break
        n=$(set -o pipefail
            snmpbulkwalk -v2c -c public -On -t 1 -r 0 -Cr50 "127.0.0.1:$port" "$ROOT_OID" 2>/dev/null |
                grep -c '^\.') && rc=0 || rc=$?
        echo "$rc ${n:-0}" >>"$out"
        # Not served right now (snmpd restarting, subtree not registered
        # yet): don't spin.
        if [ "$rc" != 0 ] || [ "${n:-0}" -le 1 ]; then sleep 0.1; fi
    done
}

# walk_stats FILE EXPECTED: "walks complete unregistered cut failed":
# complete = exit 0 with every varbind; unregistered = exit 0 with one
# varbind (noSuchObject: the subtree was not registered at that moment);
# cut = exit 0 with some other count; failed = the client gave up
# (timeout: snmpd down).
walk_stats() {
    awk -v want="$2" '{ t++; if ($1 == 0 && $2 == want) c++; else if ($1 == 0 && $2 <= 1) u++;
        else if ($1 == 0) s++; else f++ }
        END { printf "%d %d %d %d %d\n", t, c, u, s, f }' "$1"
}

percentiles() {
    python3 -c '
import statistics, sys
v = sorted(float(x) for x in sys.argv[1:])
if not v:
    print("n/a"); sys.exit()
def pct(p):
    return v[min(len(v) - 1, max(0, int(round(p / 100 * len(v) + 0.5)) - 1))]
print("p50 %.0f ms, p99 %.0f ms, max %.0f ms" % (pct(50), pct(99), v[-1]))' "$@"
}

phase_restarts() {
    local dir=$BENCH_TMP/restarts n=$RESTART_TUNNELS port
    start_served "$dir" "$n" 10 60
    port=$SERVED_PORT
    local expected
    expected=$("$HERE/walk_loop.sh" 1 "$port" "$ROOT_OID" 50 | awk '{print $2}')
    log "(i) $RESTARTS restarts, $n tunnels ($expected varbinds/walk), hold ${HOLD}s"
    local walks=$dir/walks stop=$dir/stop
    : >"$walks"
    walker "$walks" "$port" "$expected" "$stop" &
    local walker_pid=$!
    STARTED_PIDS+=("$walker_pid")
    local up_ms=() reg_ms=() survived=0 r t0 t_up t_reg
    for ((r = 1; r <= RESTARTS; r++)); do
        sleep "$HOLD"
        stop_pid "$MASTER_PID"
        t0=${EPOCHREALTIME/./}
        SNMP_PERSISTENT_DIR="$dir/persist" snmpd -f -Lf "$dir/master.log" -C -c "$dir/master.conf" \
            </dev/null >/dev/null 2>&1 &
        MASTER_PID=$!
        STARTED_PIDS+=("$MASTER_PID")
        t_up="" t_reg=""
        local i
        for ((i = 0; i < 3000; i++)); do # ≤ 30 s at 10 ms
            local v
            v=$(snmpget -v2c -c public -Oqv -t 0.05 -r 0 "127.0.0.1:$port" 1.3.6.1.2.1.1.3.0 "$TUNNEL_COUNT_OID" 2>/dev/null || true)
            if [ -z "$t_up" ] && [ -n "$v" ]; then t_up=${EPOCHREALTIME/./}; fi
            if [ "$(echo "$v" | tail -1)" = "$n" ]; then t_reg=${EPOCHREALTIME/./}; break; fi
            sleep 0.01
        done
        if [ -n "$t_reg" ]; then
            survived=$((survived + 1))
            up_ms+=("$(((t_up - t0) / 1000))")
            reg_ms+=("$(((t_reg - t0) / 1000))")
        else
            log "(i) restart $r: our subtree did not come back within 30 s"
        fi
        if ((r % 10 == 0)); then log "(i) $r/$RESTARTS restarts, $survived re-registered"; fi
    done
    sleep 2
    touch "$stop"
    wait "$walker_pid" 2>/dev/null || true
    local agent_alive=yes
    kill -0 "$AGENT_PID" 2>/dev/null || agent_alive=no
    read -r total complete unreg cut failed < <(walk_stats "$walks" "$expected")
    local rss
    rss=$(rss_kb "$AGENT_PID")
    REPORT+=("| (i) snmpd restarts | $survived / $RESTARTS re-registered (agent alive: $agent_alive), hold ${HOLD}s, $n tunnels | snmpd answering: $(percentiles "${up_ms[@]}"); our subtree answering (re-registration): $(percentiles "${reg_ms[@]}") | walks: $total — complete $complete, not registered yet $unreg, cut short $cut, client timeouts $failed (anything but complete is expected only around a restart; the walker waits 0.1 s after those) | RSS at end $((rss / 1024)) MB |")
    stop_pid "$AGENT_PID"
    stop_pid "$MASTER_PID"
}

phase_walkers() {
    local dir=$BENCH_TMP/walkers n=$WALK_TUNNELS port
    start_served "$dir" "$n" 10 120
    port=$SERVED_PORT
    local expected
    expected=$("$HERE/walk_loop.sh" 1 "$port" "$ROOT_OID" 50 | awk '{print $2}')
    sleep 12 # a couple of polls: RSS at its steady state
    local rss0 hwm0 t0
    rss0=$(rss_kb "$AGENT_PID")
    hwm0=$(awk '/^VmHWM:/ {print $2}' "/proc/$AGENT_PID/status")
    t0=$(cpu_ticks "$AGENT_PID")
    log "(ii) $WALKERS walkers × ${WALK_SECS}s, $n tunnels ($expected varbinds/walk)"
    local stop=$dir/stop pids=() w
    for ((w = 0; w < WALKERS; w++)); do
        : >"$dir/w$w"
        walker "$dir/w$w" "$port" "$expected" "$stop" &
        pids+=("$!")
        STARTED_PIDS+=("$!")
    done
    sleep "$WALK_SECS"
    touch "$stop"
    local p
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    local rss1 hwm1 t1
    rss1=$(rss_kb "$AGENT_PID")
    hwm1=$(awk '/^VmHWM:/ {print $2}' "/proc/$AGENT_PID/status")
    t1=$(cpu_ticks "$AGENT_PID")
    cat "$dir"/w* >"$dir/all"
    read -r total complete unreg cut failed < <(walk_stats "$dir/all" "$expected")
    local vbs
    vbs=$(awk '{s += $2} END {print s + 0}' "$dir/all")
    local agent_alive=yes
    kill -0 "$AGENT_PID" 2>/dev/null || agent_alive=no
    REPORT+=("| (ii) $WALKERS concurrent walkers, ${WALK_SECS}s (agent alive: $agent_alive) | $n tunnels, $expected varbinds/walk | walks: $total (each walker finishes the walk in progress at the deadline) — complete $complete, noSuchObject $unreg, cut short $cut, client timeouts $failed; $vbs varbinds, $((vbs / WALK_SECS))/s; agent CPU $(( (t1 - t0) * 1000000 / CLK_TCK / (vbs > 0 ? vbs : 1) )) µs/varbind | RSS start $((rss0 / 1024)) MB → end $((rss1 / 1024)) MB (VmHWM $((hwm0 / 1024)) → $((hwm1 / 1024)) MB) |")
    stop_pid "$AGENT_PID"
    stop_pid "$MASTER_PID"
}

phase_fuzz() {
    if [ "$FUZZ_SECS" = 0 ]; then return; fi
    if [ ! -d "$REPO/fuzz" ]; then
        REPORT+=("| (iii) fuzz | skipped: no fuzz/ directory | | | |")
        return
    fi
    if ! cargo fuzz --version >/dev/null 2>&1; then
        REPORT+=("| (iii) fuzz | skipped: cargo-fuzz not installed (cargo install cargo-fuzz) | | | |")
        return
    fi
    local corpus=$BENCH_TMP/fuzz-corpus artifacts=$BENCH_TMP/fuzz-artifacts
    mkdir -p "$corpus" "$artifacts"
    # Nightly-only sanitizer flags: allowed on stable with RUSTC_BOOTSTRAP.
    local boot=()
    rustc --version | grep -q nightly || boot=(env RUSTC_BOOTSTRAP=1)
    log "(iii) fuzzing pdu_decode for ${FUZZ_SECS}s"
    local rc=0
    (cd "$REPO/fuzz" && timeout $((FUZZ_SECS + 900)) "${boot[@]}" cargo fuzz run pdu_decode \
        "$corpus" "$REPO/fuzz/corpus/pdu_decode" -- \
        -max_total_time="$FUZZ_SECS" -artifact_prefix="$artifacts/" -print_final_stats=1) \
        >"$BENCH_TMP/fuzz.log" 2>&1 || rc=$?
    local execs crashes units
    execs=$(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$BENCH_TMP/fuzz.log" | grep -Eo '[0-9]+$' || true)
    [ -n "$execs" ] || execs=$(grep -Eo 'Done [0-9]+ runs' "$BENCH_TMP/fuzz.log" | grep -Eo '[0-9]+' || echo "?")
    crashes=$(find "$artifacts" -type f | wc -l)
    units=$(find "$corpus" -type f | wc -l)
    local cov
    cov=$(grep -Eo 'cov: [0-9]+ ft: [0-9]+' "$BENCH_TMP/fuzz.log" | tail -1 || true)
    REPORT+=("| (iii) cargo fuzz pdu_decode, ${FUZZ_SECS}s | exit $rc | $execs execs, $crashes crash/leak/timeout artifacts | $cov; $units new corpus units (kept out of the repo) | |")
    if [ "$crashes" != 0 ] || [ "$rc" != 0 ]; then
        mkdir -p "$HERE/fuzz-artifacts"
        cp "$artifacts"/* "$HERE/fuzz-artifacts/" 2>/dev/null || true
        tail -40 "$BENCH_TMP/fuzz.log" >&2
    fi
}

for p in "${PHASES[@]}"; do
    case $p in
        1) phase_restarts ;;
        2) phase_walkers ;;
        3) phase_fuzz ;;
    esac
done

TABLE=$(
    echo "| phase | setup / survived | timing | walks / execs | memory |"
    echo "|---|---|---|---|---|"
    printf '%s\n' "${REPORT[@]}"
)
echo
echo "$TABLE"
if [ "$RESULTS" != - ]; then
    {
        echo
        echo "### soak.sh$([ -n "${SOAK_SHORT:-}" ] && echo " (SOAK_SHORT)") — $MACHINE"
        echo
        echo "Load at end: $(cut -d' ' -f1-3 /proc/loadavg); during the run: $(noise_since "$CPU_AT_START"); busiest: $(busy_procs)"
        echo
        echo "$TABLE"
    } >>"$RESULTS"
    log "appended to $RESULTS"
fi
