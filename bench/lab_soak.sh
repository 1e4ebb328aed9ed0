#!/usr/bin/env bash
# Soak (not a test): tunnel create/delete cycles in the QEMU lab guest while snmpd +
# `vti-agentx run` serve and a walker loops snmpbulkwalk over the agent's subtree
# (issue 7). See tests/lab/scenarios/soak.sh for what is counted and how.
#
#   bench/lab_soak.sh [6.1|6.12] [CYCLES]      (defaults 6.12, 1000)
#
# Env: VTI_LAB_ACCEL as for the lab; SOAK_MAX_S (stop the cycle loop after this many
# seconds, default 1000), SOAK_INTERVAL (agent --interval, default 2), SOAK_BASE
# (standing tunnels, default 12), SOAK_WINDOW (churn tunnels alive at once, default 4).
# Builds the release binary, boots the kernel with the "soak" part only, prints the
# summary and a Markdown row for bench/RESULTS.md. Results stay in
# target/bench/soak-<series>-<cycles>/.
set -euo pipefail
cd "$(dirname "$0")/.."
series=${1:-6.12}
cycles=${2:-1000}
max_s=${SOAK_MAX_S:-1000}
out=target/bench/soak-$series-$cycles
mkdir -p "$out"
append="lab.soak_cycles=$cycles lab.soak_max_s=$max_s"
[ -z "${SOAK_INTERVAL:-}" ] || append="$append lab.soak_interval=$SOAK_INTERVAL"
[ -z "${SOAK_BASE:-}" ] || append="$append lab.soak_base=$SOAK_BASE"
[ -z "${SOAK_WINDOW:-}" ] || append="$append lab.soak_window=$SOAK_WINDOW"
cargo build --release --quiet --bin vti-agentx
strip -o "$out/vti-agentx" target/release/vti-agentx
t0=$(date +%s)
rc=0
tests/lab/run.sh --kernel "$series" --agent "$out/vti-agentx" \
    --scenario tests/lab/scenarios/all.sh --parts soak --part-timeout $((max_s + 600)) \
    --timeout $((max_s + 900)) --mem 1024 --append "$append" --out "$out" >&2 || rc=$?
wall=$(($(date +%s) - t0))

section() { # NAME — body of a results.txt section
    awk -v n="$1" '$0 == "=== BEGIN " n " ===" { on = 1; next }
                   index($0, "=== END " n " rc=") == 1 { on = 0 } on' "$out/results.txt"
}
for s in params baseline rss_start progress walks walk_errors check1 check2 rss_end agent result; do
    echo "== soak.$s"; section "soak.$s"
done
echo "== all.soak"; section all.soak
echo "boot wall time ${wall}s, run.sh rc=$rc"
kb() { section "$1" | sed -n "s/.*$2 *\([0-9]*\) kB.*/\1/p" | head -n1; }
val() { section "$1" | tr ' ' '\n' | sed -n "s/^$2=//p" | head -n1; }
printf '\n| %s | %s | %s | %s of %s in %s s | %s | %s | %s ok, %s torn, %s error (%s saw churn tunnels) | %s / %s | %s → %s MB (VmHWM %s → %s) | %s, %s |\n' \
    "$(date -u +%F)" "$(grep -o '^kernel=.*' "$out/meta" | cut -d= -f2)" \
    "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores, QEMU $(grep -o 'accel=.*' "$out/meta" | cut -d= -f2)" \
    "$(val soak.result cycles)" "$cycles" "$(section soak.progress | sed -n 's/^cycles=.* seconds=\([0-9]*\).*/\1/p')" \
    "$(val soak.params interval_s) s" "$(val soak.params base) + $(val soak.params window)" \
    "$(val soak.walks ok)" "$(val soak.walks torn)" "$(val soak.walks error)" "$(val soak.walks walks_seeing_churn_tunnels)" \
    "$(val soak.agent alive)" "$(val soak.agent registered)" \
    "$(awk -v k="$(kb soak.rss_start VmRSS:)" 'BEGIN { printf "%.1f", k / 1024 }')" \
    "$(awk -v k="$(kb soak.rss_end VmRSS:)" 'BEGIN { printf "%.1f", k / 1024 }')" \
    "$(awk -v k="$(kb soak.rss_start VmHWM:)" 'BEGIN { printf "%.1f", k / 1024 }')" \
    "$(awk -v k="$(kb soak.rss_end VmHWM:)" 'BEGIN { printf "%.1f", k / 1024 }')" \
    "check 1 $(val soak.check1 equal)" "check 2 $(val soak.check2 equal)"
exit "$rc"
