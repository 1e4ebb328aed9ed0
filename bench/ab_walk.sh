#!/usr/bin/env bash
# A/B of two builds of the agent on the SNMP path, side by side in one run.
#
#   bench/ab_walk.sh A_BIN B_BIN [N]     # N tunnels (default 1000)
#
# A_BIN and B_BIN are builds of examples/bench_agent (e.g. main's before and
# after a change: `cargo build --release --example bench_agent` in two
# worktrees). Each gets its own private snmpd master; both are up at once
# and walked in turn (order alternating every round), RUNS rounds (default
# 6), medians reported: walk µs per varbind, the agent's user and system CPU
# per varbind (all threads, /proc/PID/stat), RSS after the walks.
# PIN_CPU=n pins each master and its agent (every thread) to CPU n.
# Env: RUNS, K (walks per sample, 2), MAX_REP (50), RESULTS ("-" = don't append).
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"
[ $# -ge 2 ] || die "usage: bench/ab_walk.sh A_BIN B_BIN [N]"
[ "$(id -u)" = 0 ] || die "run as root (snmpd state dirs, taskset of children)"
need snmpd snmpbulkwalk python3
A_BIN=$(readlink -f "$1") B_BIN=$(readlink -f "$2") N=${3:-1000}
{ [ -x "$A_BIN" ] && [ -x "$B_BIN" ]; } || die "both binaries must be executable"
RUNS=${RUNS:-6} K=${K:-2} MAX_REP=${MAX_REP:-50}
RESULTS=${RESULTS:-$REPO/bench/RESULTS.md}
trap cleanup EXIT
bench_tmp
RAW=$BENCH_TMP/raw.tsv
: >"$RAW"
MACHINE=$(machine_line)
log "machine: $MACHINE"

declare -A PORT AGENT
for side in A B; do
    bin=${side}_BIN
    BENCH_AGENT=${!bin} start_served "$BENCH_TMP/$side" "$N" 10 60
    if [ -n "${PIN_CPU:-}" ]; then
        taskset -apc "$PIN_CPU" "$MASTER_PID" >/dev/null
        taskset -apc "$PIN_CPU" "$AGENT_PID" >/dev/null
    fi
    PORT[$side]=$SERVED_PORT AGENT[$side]=$AGENT_PID
done

for ((r = 0; r < RUNS; r++)); do
    for side in $( ((r % 2)) && echo B A || echo A B); do
        pid=${AGENT[$side]}
        read -r u0 s0 < <(cpu_ticks_split "$pid")
        out=$("$HERE/walk_loop.sh" "$K" "${PORT[$side]}" "$ROOT_OID" "$MAX_REP")
        read -r u1 s1 < <(cpu_ticks_split "$pid")
        read -r us vb fails <<<"$out"
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$side" "$us" "$vb" "$((u1 - u0))" "$((s1 - s0))" \
            "$(rss_kb "$pid")" "$fails" >>"$RAW"
        log "round $((r + 1))/$RUNS $side: $vb varbinds in $((us / 1000)) ms, $fails failed walks"
    done
done

TABLE=$(python3 - "$RAW" "$CLK_TCK" "$A_BIN" "$B_BIN" <<'PY'
import statistics, sys
raw, tck, names = sys.argv[1], int(sys.argv[2]), {"A": sys.argv[3], "B": sys.argv[4]}
rows = {"A": [], "B": []}
for line in open(raw):
    side, us, vb, u, s, rss, fails = line.split()
    vb = int(vb)
    rows[side].append((int(us) / vb, int(u) * 1e6 / tck / vb, int(s) * 1e6 / tck / vb, int(rss) / 1024, int(fails)))
med = {k: [statistics.median(c) for c in zip(*v)] for k, v in rows.items()}
print("| build | walk µs/varbind | agent CPU µs/varbind (user + sys) | RSS MB | failed walks |")
print("|---|---:|---:|---:|---:|")
for k in "AB":
    w, u, s, rss, _ = med[k]
    print(f"| {k}: `{names[k]}` | {w:.2f} | {u + s:.2f} ({u:.2f} + {s:.2f}) | {rss:.1f} | {sum(r[4] for r in rows[k])} |")
a, b = med["A"], med["B"]
print(f"| B ÷ A | {b[0] / a[0]:.2f} | {(b[1] + b[2]) / (a[1] + a[2]):.2f} | | |")
PY
)
echo
echo "$TABLE"
if [ "$RESULTS" != - ]; then
    {
        echo
        echo "### ab_walk.sh — $MACHINE"
        echo
        echo "N=$N tunnels, RUNS=$RUNS K=$K MAX_REP=$MAX_REP PIN_CPU=${PIN_CPU:-none}; load at end $(cut -d' ' -f1-3 /proc/loadavg)"
        echo
        echo "$TABLE"
    } >>"$RESULTS"
    log "appended to $RESULTS"
fi
