#!/bin/sh
# Part "bench" (not a test, not in all.sh's default list; run by bench/lab_poll.sh): the
# CPU cost of one agent poll at N tunnels and 4 N SAs against iproute2 reading the same
# set, in the same boot, and the running agent's memory.
#
# Knobs (kernel command line, run.sh --append; lab_poll.sh sets them):
#   lab.bench_tunnels=N      tunnels (default 1000): N/5 vti + N/5 vti6 + the rest xfrm
#   lab.bench_rounds=R       rounds per phase (default 9 up to 2,000 tunnels, else 5)
#   lab.bench_show=0|1       run the one-shot `show` phase (default 1 up to 2,000 tunnels:
#                            at 10k its pretty JSON alone would be ~1 GB in memory)
#   lab.bench_interval=S     the running agent's --interval (default max(2, 1.5 s per
#                            1,000 tunnels), so one poll ends well before the next)
#   lab.bench_window_polls=K intervals per measured window of the running agent (default
#                            5 up to 2,000 tunnels, else 3)
#   lab.bench_mem_only=1     skip both phases: only the collect_rss memory sections
#
# Namespace "bench": the interfaces, 4 ESP SAs per tunnel (2 out, 2 in, as during a
# rekey) bound by mark (vti/vti6) or if_id (xfrm); no policies, no traffic. All created
# with two `ip -batch` runs. Outer addresses: 192.0.2.0/24, 198.51.100.0/24,
# 203.0.113.0/24, 2001:db8::/32.
#
# Phase 1 ("show", optional): R rounds, each running in turn, in a fresh `sh` inside the
# namespace (CPU = that sh's cutime+cstime after waiting for it, clock ticks of 1/100 s;
# includes the kernel's netlink dump work, done in the reader's context):
#   show0  vti-agentx show --json --wait 0   one process: start-up, one poll, JSON out
#   show1  vti-agentx show --json --wait 1   the same with a second poll 1 s later
#          (show1 - show0 = one steady-state poll: collect, classify, render the MIB index)
#   link   ip -s -d link show
#   xfrm   ip -s xfrm state
# Phase 2 ("run"): `vti-agentx run --interval S` (no AgentX master, so it only polls and
# retries connecting), warmed up for 2 intervals; then R rounds of: the agent's CPU over
# a window of K intervals (utime+stime from /proc/PID/stat; the poll schedule is periodic,
# so a window of K whole intervals holds K polls' worth of CPU whatever its phase), then
# the agent SIGSTOPped while `link` and `xfrm` run once each, then SIGCONT.
# Sections: bench.params, bench.setup (counts), bench.runs ("NAME run=I ticks=T
# wall_cs=W" lines; the agent's "agent run=I ticks=T wall_cs=W interval_s=S rss_kb=R"),
# bench.rss (peak RSS of one show0, phase 1 only), bench.run (the running agent's
# VmRSS/VmHWM after phase 2), bench.mem_* (collect_rss, if present), bench.json_bytes (phase 1 only), bench.kernel.
# shellcheck source=../guest/lib.sh disable=SC1091
. /lab/lib.sh

N=$(lab_param lab.bench_tunnels 1000)
NVTI=$((N / 5)) NVTI6=$((N / 5))
NXFRM=$((N - NVTI - NVTI6))
if [ "$N" -le 2000 ]; then big=0; else big=1; fi
ROUNDS=$(lab_param lab.bench_rounds $((big ? 5 : 9)))
SHOW=$(lab_param lab.bench_show $((big ? 0 : 1)))
def_interval=$((N * 3 / 2000))
[ "$def_interval" -ge 2 ] || def_interval=2
INTERVAL=$(lab_param lab.bench_interval "$def_interval")
WPOLLS=$(lab_param lab.bench_window_polls $((big ? 3 : 5)))
section bench.params echo "tunnels=$N vti=$NVTI vti6=$NVTI6 xfrm=$NXFRM sas=$((4 * N))" \
    "rounds=$ROUNDS show=$SHOW interval_s=$INTERVAL window_polls=$WPOLLS" \
    "mem_kb=$(awk '/MemTotal/ { print $2 }' /proc/meminfo)"
mk_ns bench

# Interfaces, then SAs (key material: fixed lab-only strings, never printed).
awk -v nv="$NVTI" -v n6="$NVTI6" -v nx="$NXFRM" 'BEGIN {
    for (i = 1; i <= nv; i++)
        printf "link add vtib%d type vti local 192.0.2.%d remote 198.51.100.%d ikey %d okey %d\n",
            i, 1 + int((i - 1) / 254), (i - 1) % 254 + 1, i, i
    for (i = 1; i <= n6; i++)
        printf "link add vti6b%d type vti6 local 2001:db8::1 remote 2001:db8:1::%x ikey %d okey %d\n", i, i, i, i
    for (i = 1; i <= nx; i++)
        printf "link add xfrmb%d type xfrm if_id %d\n", i, 1000 + i
}' >/tmp/bench.links || die "generating the link batch failed"
awk -v nv="$NVTI" -v n6="$NVTI6" -v nx="$NXFRM" 'function sa(src, dst, spi, reqid, sel) {
    printf "xfrm state add src %s dst %s proto esp spi 0x%x mode tunnel reqid %d enc cbc(aes) 0x%s auth-trunc hmac(sha256) 0x%s 128 %s\n", src, dst, spi, reqid, ek, ak, sel
}
function four(l, r, n, sel) {
    sa(l, r, 4 * n, n, sel); sa(l, r, 4 * n + 1, n, sel)
    sa(r, l, 4 * n + 2, n, sel); sa(r, l, 4 * n + 3, n, sel)
}
BEGIN {
    ek = "000102030405060708090a0b0c0d0e0f"
    ak = "101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f"
    for (i = 1; i <= nv; i++)
        four("192.0.2." (1 + int((i - 1) / 254)), "198.51.100." ((i - 1) % 254 + 1), 1000 + i, "mark " i)
    for (i = 1; i <= n6; i++) four("2001:db8::1", sprintf("2001:db8:1::%x", i), 1000 + nv + i, "mark " i)
    for (i = 1; i <= nx; i++) four("192.0.2.2", "203.0.113." (i % 250 + 1), 1000 + nv + n6 + i, "if_id " (1000 + i))
}' >/tmp/bench.sas || die "generating the SA batch failed"
[ "$(wc -l </tmp/bench.sas)" = $((4 * N)) ] || die "SA batch incomplete"
t0=$(cut -d' ' -f1 /proc/uptime)
run ip -n bench -batch /tmp/bench.links
t1=$(cut -d' ' -f1 /proc/uptime)
run ip -n bench -batch /tmp/bench.sas
t2=$(cut -d' ' -f1 /proc/uptime)
rm -f /tmp/bench.sas
section_begin bench.setup
echo "links_batch_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" >&3
echo "sas_batch_s=$(awk -v a="$t1" -v b="$t2" 'BEGIN { print b - a }')" >&3
for k in vti vti6 xfrm; do
    echo "$k=$(ip -n bench -o link show type "$k" | grep -vc -e ip_vti0 -e ip6_vti0)" >&3
done
ip -n bench xfrm state count >&3
section_end 0
[ "$(ip -n bench -o link show | grep -c -e ' vtib' -e ' vti6b' -e ' xfrmb')" = "$N" ] ||
    die "not all interfaces were created"
ip -n bench xfrm state count | grep -q "count $((4 * N))\$" || die "not all SAs were created"

uptime_cs() { awk '{ printf "%d", $1 * 100 }' /proc/uptime; }
# once NAME ROUND CMD... — run CMD in the namespace: "NAME run=ROUND ticks=T wall_cs=W".
once() {
    local name=$1 round=$2 t0 ticks
    shift 2
    t0=$(uptime_cs)
    # shellcheck disable=SC2016 # expanded by the inner sh
    ticks=$(nsx bench sh -c '"$@" >/dev/null 2>&1; awk "{ print \$16 + \$17 }" /proc/$$/stat' \
        sh "$@")
    echo "$name run=$round ticks=$ticks wall_cs=$(($(uptime_cs) - t0))"
}
# Rounds interleave the commands, so a change of load on the host (TCG) hits them alike.
MEM_ONLY=$(lab_param lab.bench_mem_only 0)
[ "$MEM_ONLY" = 1 ] && { SHOW=0; ROUNDS=0; }
section_begin bench.runs
{
    # Warm-up (page cache, crypto modules): not counted.
    nsx bench /usr/sbin/ip -s -d link show >/dev/null 2>&1
    if [ "$SHOW" = 1 ]; then
        nsx bench vti-agentx show --json --wait 0 >/dev/null 2>&1
        r=1
        while [ $r -le "$ROUNDS" ]; do
            once show0 $r vti-agentx show --json --wait 0
            once show1 $r vti-agentx show --json --wait 1
            # Full paths: busybox sh would run its own `ip` applet.
            once link $r /usr/sbin/ip -s -d link show
            once xfrm $r /usr/sbin/ip -s xfrm state
            r=$((r + 1))
        done
    fi
    # The long-running agent: CPU per poll in steady state and its memory.
    bg_start benchagent bench vti-agentx run --master unix:/run/no-master --interval "$INTERVAL"
    pid=$(cat /run/benchagent.pid)
    sleep $((2 * INTERVAL + 1))
    r=1
    while [ $r -le "$ROUNDS" ]; do
        c0=$(awk '{ print $14 + $15 }' "/proc/$pid/stat") u0=$(uptime_cs)
        # VmRSS once a second over the window: its minimum is the agent between
        # polls (steady state), its maximum the poll-time peak. One reading at the
        # end would land anywhere in the poll cycle.
        rmin='' rmax=0 s=0
        while [ $s -lt $((WPOLLS * INTERVAL)) ]; do
            sleep 1
            rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$pid/status")
            if [ -z "$rmin" ] || [ "$rss" -lt "$rmin" ]; then rmin=$rss; fi
            if [ "$rss" -gt "$rmax" ]; then rmax=$rss; fi
            s=$((s + 1))
        done
        c1=$(awk '{ print $14 + $15 }' "/proc/$pid/stat") u1=$(uptime_cs)
        echo "agent run=$r ticks=$((c1 - c0)) wall_cs=$((u1 - u0)) interval_s=$INTERVAL" \
            "rss_kb=$rss rss_min_kb=$rmin rss_max_kb=$rmax"
        kill -STOP "$pid"
        once link "a$r" /usr/sbin/ip -s -d link show
        once xfrm "a$r" /usr/sbin/ip -s xfrm state
        kill -CONT "$pid"
        r=$((r + 1))
    done
} >&3 2>&1
section_end 0
section_begin bench.run
echo "interval_s=$INTERVAL alive=$(kill -0 "$pid" 2>/dev/null && echo yes || echo no)" >&3
grep -e VmRSS -e VmHWM -e RssAnon -e RssFile -e VmData "/proc/$pid/status" >&3
section_end 0
bg_stop benchagent
# Where the memory goes (if lab_poll.sh put examples/collect_rss in the guest): the
# collector alone, the agent's poller on top, and that without the mallopt limits.
if [ -x /usr/local/bin/collect_rss ]; then
    section bench.mem_collector nsx bench collect_rss --polls 4 --interval 1
    section bench.mem_pipeline nsx bench collect_rss --pipeline --polls 4 --interval 1
    section bench.mem_pipeline_nomallopt nsx bench collect_rss --pipeline --no-mallopt --polls 4 --interval 1
    section bench.mem_pipeline_trim nsx bench collect_rss --pipeline --trim --polls 4 --interval 1
fi
if [ "$SHOW" = 1 ]; then
    section bench.rss sh -c '/usr/sbin/ip netns exec bench busybox time -v \
        vti-agentx show --json --wait 0 2>&1 >/dev/null | grep -i -e "maximum resident" -e "elapsed"'
    section bench.json_bytes sh -c '/usr/sbin/ip netns exec bench vti-agentx show --json --wait 0 | wc -c'
fi
section bench.kernel uname -r
exit 0
