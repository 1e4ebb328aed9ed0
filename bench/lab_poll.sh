#!/usr/bin/env bash
# Bench (not a test): CPU time of one vti-agentx poll at 1,000 tunnels / 4,000 SAs
# against `ip -s -d link show` + `ip -s xfrm state` of the same set, in the QEMU lab
# guest (issue 3). See tests/lab/scenarios/bench.sh for what is measured and how.
#
#   bench/lab_poll.sh [6.1|6.12]      (default 6.12; VTI_LAB_ACCEL as for the lab)
#
# Builds the release binary, boots the kernel with the "bench" part only, prints the
# medians, the ratios and a Markdown row for bench/RESULTS.md. Results stay in
# target/bench/lab-<series>/.
set -euo pipefail
cd "$(dirname "$0")/.."
series=${1:-6.12}
out=target/bench/lab-$series
mkdir -p "$out"
cargo build --release --quiet --bin vti-agentx
strip -o "$out/vti-agentx" target/release/vti-agentx
tests/lab/run.sh --kernel "$series" --agent "$out/vti-agentx" \
    --scenario tests/lab/scenarios/all.sh --parts bench --part-timeout 1700 \
    --timeout 1800 --mem 1024 --out "$out" >&2

section() { # NAME — body of a results.txt section
    awk -v n="$1" '$0 == "=== BEGIN " n " ===" { on = 1; next }
                   index($0, "=== END " n " rc=") == 1 { on = 0 } on' "$out/results.txt"
}
median() { # NAME FIELD — median of FIELD=value over the runs of NAME
    section bench.runs | awk -v n="$1" -v f="$2" '$1 == n {
        for (i = 2; i <= NF; i++) if (index($i, f "=") == 1) v[++c] = substr($i, length(f) + 2) + 0
    } END {
        for (i = 1; i <= c; i++) for (j = i + 1; j <= c; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
        print v[int((c + 1) / 2)]
    }'
}

echo "== setup"; section bench.setup
echo "== runs (CPU ticks = 1/100 s)"; section bench.runs
echo "== peak RSS of one show"; section bench.rss
echo "== vti-agentx run --interval 2, over a window"; section bench.run
echo "== show --json output bytes"; section bench.json_bytes
s0=$(median show0 ticks) s1=$(median show1 ticks) l=$(median link ticks) x=$(median xfrm ticks)
kernel=$(section bench.kernel | head -n1)
run_ticks=$(section bench.run | sed -n 's/.*ticks=\([0-9]*\) over_cs=\([0-9]*\).*/\1 \2/p')
awk -v s0="$s0" -v s1="$s1" -v l="$l" -v x="$x" -v k="$kernel" -v rt="${run_ticks% *}" -v rw="${run_ticks#* }" -v d="$(date -u +%F)" \
    -v m="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores, QEMU $(grep -o 'accel=.*' "$out/meta" | cut -d= -f2)" 'BEGIN {
    ip = l + x; poll = s1 - s0; rpoll = rt / (rw / 200)
    printf "\nmedians (CPU seconds): show --wait 0 %.2f, show --wait 1 %.2f, one poll (difference) %.2f, ip link %.2f, ip xfrm state %.2f, iproute2 total %.2f\n", s0/100, s1/100, poll/100, l/100, x/100, ip/100
    printf "running agent: %.2f CPU s per poll (%d ticks over %.1f s at one poll per 2 s)\n", rpoll/100, rt, rw/100
    printf "ratio one-shot show / iproute2 = %.2f; one poll (show difference) / iproute2 = %.2f; one poll (running agent) / iproute2 = %.2f\n\n", s0 / ip, poll / ip, rpoll / ip
    printf "| %s | %s | %s | %.2f s | %.2f s | %.2f s | %.2f s | %.2f s | %.2f | %.2f | %.2f |\n", d, k, m, s0/100, poll/100, rpoll/100, l/100, x/100, s0/ip, poll/ip, rpoll/ip
}'
