#!/usr/bin/env bash
# Bench (not a test): CPU time of one vti-agentx poll at N tunnels / 4 N SAs against
# `ip -s -d link show` + `ip -s xfrm state` of the same set, and the running agent's
# RSS, in the QEMU lab guest (issues 3 and 7). See tests/lab/scenarios/bench.sh for what
# is measured and how.
#
#   bench/lab_poll.sh [6.1|6.12] [TUNNELS]      (defaults 6.12, 1000)
#
# Env: VTI_LAB_ACCEL as for the lab; BENCH_ROUNDS, BENCH_SHOW (0|1), BENCH_INTERVAL,
# BENCH_WINDOW_POLLS, BENCH_MEM_ONLY=1 (only the collect_rss memory sections) override
# the part's defaults (see bench.sh); BENCH_MEM (guest MB,
# default 1024 up to 2,000 tunnels, else 4096).
# Builds the release binary, boots the kernel with the "bench" part only, prints the
# medians, the ratios and a Markdown row for bench/RESULTS.md. Results stay in
# target/bench/lab-<series>-<tunnels>/.
set -euo pipefail
cd "$(dirname "$0")/.."
series=${1:-6.12}
tunnels=${2:-1000}
out=target/bench/lab-$series-$tunnels
mkdir -p "$out"
if [ "$tunnels" -le 2000 ]; then mem=${BENCH_MEM:-1024}; else mem=${BENCH_MEM:-4096}; fi
append="lab.bench_tunnels=$tunnels"
[ -z "${BENCH_ROUNDS:-}" ] || append="$append lab.bench_rounds=$BENCH_ROUNDS"
[ -z "${BENCH_SHOW:-}" ] || append="$append lab.bench_show=$BENCH_SHOW"
[ -z "${BENCH_INTERVAL:-}" ] || append="$append lab.bench_interval=$BENCH_INTERVAL"
[ -z "${BENCH_WINDOW_POLLS:-}" ] || append="$append lab.bench_window_polls=$BENCH_WINDOW_POLLS"
[ -z "${BENCH_MEM_ONLY:-}" ] || append="$append lab.bench_mem_only=$BENCH_MEM_ONLY"
cargo build --release --quiet --bin vti-agentx --example collect_rss
strip -o "$out/vti-agentx" target/release/vti-agentx
strip -o "$out/collect_rss" target/release/examples/collect_rss
tests/lab/run.sh --kernel "$series" --agent "$out/vti-agentx" --extra-bin "$out/collect_rss" \
    --scenario tests/lab/scenarios/all.sh --parts bench --part-timeout 3500 \
    --timeout 3600 --mem "$mem" --append "$append" --out "$out" >&2

section() { # NAME — body of a results.txt section
    awk -v n="$1" '$0 == "=== BEGIN " n " ===" { on = 1; next }
                   index($0, "=== END " n " rc=") == 1 { on = 0 } on' "$out/results.txt"
}
field() { # NAME FIELD — FIELD=value of every line of bench.runs named NAME, one a line
    section bench.runs | awk -v n="$1" -v f="$2" '$1 == n {
        for (i = 2; i <= NF; i++) if (index($i, f "=") == 1) print substr($i, length(f) + 2) + 0
    }'
}
median() { # — median of the numbers on stdin ("" if none)
    sort -g | awk '{ v[++c] = $1 } END { if (c) print (c % 2) ? v[(c + 1) / 2] : (v[c / 2] + v[c / 2 + 1]) / 2 }'
}

echo "== parameters"; section bench.params
echo "== setup"; section bench.setup
echo "== runs (CPU ticks = 1/100 s)"; section bench.runs
echo "== peak RSS of one show"; section bench.rss
echo "== the running agent after the rounds"; section bench.run
echo "== show --json output bytes"; section bench.json_bytes
for m in collector pipeline pipeline_nomallopt pipeline_trim; do
    echo "== memory: collect_rss ($m)"; section "bench.mem_$m"
done
s0=$(field show0 ticks | median) s1=$(field show1 ticks | median)
l=$(field link ticks | median) x=$(field xfrm ticks | median)
# Per poll of the running agent: ticks over a window of whole intervals / intervals.
rp=$(section bench.runs | awk '$1 == "agent" {
    for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
    print f["ticks"] * f["interval_s"] * 100 / f["wall_cs"] }' | median)
busy=$(section bench.runs | awk '$1 == "agent" {
    for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
    print f["ticks"] / f["wall_cs"] }' | median)
rss=$(section bench.run | awk '/^VmRSS/ { printf "%.1f", $2 / 1024 }')
hwm=$(section bench.run | awk '/^VmHWM/ { printf "%.1f", $2 / 1024 }')
mb_list() { awk '{ printf "%s%.1f", sep, $1 / 1024; sep = " " }'; }
rss_rounds=$(field agent rss_kb | mb_list)
rss_min=$(field agent rss_min_kb | mb_list) rss_max=$(field agent rss_max_kb | mb_list)
kernel=$(section bench.kernel | head -n1)
[ -n "$rp" ] || { echo "no agent rounds (BENCH_MEM_ONLY?): no CPU summary"; exit 0; }
awk -v s0="$s0" -v s1="$s1" -v l="$l" -v x="$x" -v rp="$rp" -v busy="$busy" -v n="$tunnels" \
    -v rss="$rss" -v hwm="$hwm" -v rr="$rss_rounds" -v rmin="$rss_min" -v rmax="$rss_max" \
    -v k="$kernel" -v d="$(date -u +%F)" \
    -v rounds="$(field agent ticks | wc -l)" -v mem="$mem" \
    -v m="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores, QEMU $(grep -o 'accel=.*' "$out/meta" | cut -d= -f2)" 'BEGIN {
    ip = l + x
    printf "\nmedians (CPU seconds): ip link %.2f, ip xfrm state %.2f, iproute2 total %.2f; running agent %.2f per poll (%d rounds, agent busy %.0f %% of the window)\n", l/100, x/100, ip/100, rp/100, rounds, busy * 100
    printf "running agent: VmRSS %s MB after the rounds (per round: %s), VmHWM %s MB\n", rss, rr, hwm
    if (rmin != "") printf "running agent VmRSS sampled every second, per round: between polls (min) %s MB; poll-time peak (max) %s MB\n", rmin, rmax
    if (s0 != "") {
        poll = s1 - s0
        printf "one-shot: show --wait 0 %.2f, show --wait 1 %.2f, one poll (difference) %.2f\n", s0/100, s1/100, poll/100
        printf "ratio one-shot show / iproute2 = %.2f; one poll (show difference) / iproute2 = %.2f; one poll (running agent) / iproute2 = %.2f\n\n", s0 / ip, poll / ip, rp / ip
        printf "| %s | %s | %d | %s, %d MB | %.2f s | %.2f s | %.2f s | %.2f s | %.2f s | %.2f | %.2f | %.2f | %s / %s MB |\n", d, k, n, m, mem, s0/100, poll/100, rp/100, l/100, x/100, s0/ip, poll/ip, rp/ip, rss, hwm
    } else {
        printf "ratio one poll (running agent) / iproute2 = %.2f (no one-shot show phase)\n\n", rp / ip
        printf "| %s | %s | %d | %s, %d MB | — | — | %.2f s | %.2f s | %.2f s | — | — | %.2f | %s / %s MB |\n", d, k, n, m, mem, rp/100, l/100, x/100, rp/ip, rss, hwm
    }
}'
