#!/usr/bin/env bash
# Idle cost of the agent: examples/bench_agent registered with a private
# snmpd master and left alone (polling its fixture every INTERVAL s, pinging
# the master every 15 s, nobody walking).
#
#   bench/idle_cpu.sh            # 1,000 and 10,000 tunnels, 10 s interval, 60 s each
#
# Reports per size: CPU % over DURATION (utime+stime from /proc/PID/stat, and
# the scheduler's ns-resolution runtime from /proc/PID/schedstat for a finer
# figure), CPU per poll, VmRSS at the end (steady state) and VmHWM (peak,
# which includes the poll-time overlap of the served and the new snapshot).
# Target (issue 7): ≤ 0.1 % at 1k tunnels; RSS ≤ 10 MB at 1k, ≤ 25 MB at 10k.
#
# Env: SIZES ("1000 10000"), INTERVAL (10), DURATION (60), WARMUP (25: the
# alarm windows and the allocator settle over the first polls), BENCH_AGENT,
# RESULTS (bench/RESULTS.md; "-" = don't append).
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"

read -r -a SIZES <<<"${SIZES:-1000 10000}"
INTERVAL=${INTERVAL:-10}
DURATION=${DURATION:-60}
WARMUP=${WARMUP:-25}
RESULTS=${RESULTS:-$HERE/RESULTS.md}

need snmpd snmpget
build_bench_agent
bench_tmp
trap cleanup EXIT
MACHINE=$(machine_line)
CPU_AT_START=$(cpu_times)
log "machine: $MACHINE"

schedstat_ns() { awk '{print $1}' "/proc/$1/schedstat" 2>/dev/null || echo 0; }

ROWS=()
for n in "${SIZES[@]}"; do
    dir=$BENCH_TMP/n$n
    start_served "$dir" "$n" "$INTERVAL" 120
    port=$SERVED_PORT
    log "N=$n: registered; warming up ${WARMUP}s"
    sleep "$WARMUP"
    t0=$(cpu_ticks "$AGENT_PID"); ns0=$(schedstat_ns "$AGENT_PID"); w0=${EPOCHREALTIME/./}
    sleep "$DURATION"
    t1=$(cpu_ticks "$AGENT_PID"); ns1=$(schedstat_ns "$AGENT_PID"); w1=${EPOCHREALTIME/./}
    rss=$(rss_kb "$AGENT_PID")
    hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$AGENT_PID/status")
    wall_us=$((w1 - w0))
    polls=$(( (wall_us / 1000000 + INTERVAL - 1) / INTERVAL ))
    row=$(python3 - "$n" "$INTERVAL" "$wall_us" "$((t1 - t0))" "$CLK_TCK" "$((ns1 - ns0))" "$polls" "$rss" "$hwm" <<'EOF'
import sys
n, interval, wall_us, ticks, clk, ns, polls, rss, hwm = map(int, sys.argv[1:])
pct_ticks = ticks / clk * 1e6 / wall_us * 100
pct_ns = ns / 1000 / wall_us * 100
per_poll_ms = ns / 1e6 / max(polls, 1)
print("| %d | %d s | %.1f s | %.3f %% (%d ticks) | %.3f %% | %.1f ms | %.1f | %.1f |" % (
    n, interval, wall_us / 1e6, pct_ticks, ticks, pct_ns, per_poll_ms, rss / 1024, hwm / 1024))
EOF
)
    log "N=$n: $row"
    ROWS+=("$row")
    stop_pid "$AGENT_PID"
    stop_pid "$MASTER_PID"
done

TABLE=$(
    echo "| tunnels (×4 SAs) | poll interval | measured | CPU (stat ticks) | CPU (schedstat) | CPU per poll | RSS MB (steady) | VmHWM MB (peak) |"
    echo "|---:|---:|---:|---:|---:|---:|---:|---:|"
    printf '%s\n' "${ROWS[@]}"
    echo
    echo "Idle = registered with snmpd, polling the fixture, pinging the master every 15 s, no SNMP requests;" \
        "measured after a ${WARMUP} s warm-up. CPU per poll = schedstat CPU / polls in the window" \
        "(includes the pings). The fixture generates the Sample the netlink collector would return," \
        "so the collector's own netlink cost is not in these figures."
)
echo
echo "$TABLE"
if [ "$RESULTS" != - ]; then
    {
        echo
        echo "### idle_cpu.sh — $MACHINE"
        echo
        echo "Load at end: $(cut -d' ' -f1-3 /proc/loadavg); during the run: $(noise_since "$CPU_AT_START"); busiest: $(busy_procs)"
        echo
        echo "$TABLE"
    } >>"$RESULTS"
    log "appended to $RESULTS"
fi
