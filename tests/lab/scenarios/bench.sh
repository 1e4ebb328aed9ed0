#!/bin/sh
# Part "bench" (not a test, not in all.sh's default list; run by bench/lab_poll.sh): the
# CPU cost of one agent poll at 1,000 tunnels and 4,000 SAs against iproute2 reading the
# same set, in the same boot.
#
# Namespace "bench": 200 vti + 200 vti6 + 600 xfrm interfaces, 4 ESP SAs per tunnel
# (2 out, 2 in, as during a rekey) bound by mark (vti/vti6) or if_id (xfrm); no policies,
# no traffic. All created with two `ip -batch` runs.
#
# Each measured command runs 9 times (rounds interleaving the commands) in a fresh `sh`
# inside the namespace; its CPU time is that sh's cutime+cstime after waiting for it
# (clock ticks, 1/100 s; includes the kernel's netlink dump work, done in the reader's
# context):
#   show0  vti-agentx show --json --wait 0   one process: start-up, one poll, JSON out
#   show1  vti-agentx show --json --wait 1   the same with a second poll 1 s later
#          (show1 - show0 = one steady-state poll: collect, classify, render the MIB index)
#   link   ip -s -d link show
#   xfrm   ip -s xfrm state
# Then `vti-agentx run --interval 2` for 20 s: CPU ticks over the window / polls in it.
# Sections: bench.setup (counts), bench.runs ("NAME run=I ticks=T wall_cs=W" lines),
# bench.rss (peak RSS of one show0), bench.run (the running agent: ticks, window, RSS),
# bench.json_bytes, bench.kernel.
# shellcheck source=../guest/lib.sh disable=SC1091
. /lab/lib.sh

NVTI=200 NVTI6=200 NXFRM=600
mk_ns bench

# Interfaces, then SAs (key material: fixed lab-only strings).
awk -v nv="$NVTI" -v n6="$NVTI6" -v nx="$NXFRM" 'BEGIN {
    for (i = 1; i <= nv; i++)
        printf "link add vtib%d type vti local 192.0.2.1 remote 198.51.100.%d ikey %d okey %d\n", i, i, i, i
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
    for (i = 1; i <= nv; i++) four("192.0.2.1", "198.51.100." i, 1000 + i, "mark " i)
    for (i = 1; i <= n6; i++) four("2001:db8::1", sprintf("2001:db8:1::%x", i), 2000 + i, "mark " i)
    for (i = 1; i <= nx; i++) four("192.0.2.2", "203.0.113." (i % 250 + 1), 3000 + i, "if_id " (1000 + i))
}' >/tmp/bench.sas || die "generating the SA batch failed"
[ "$(wc -l </tmp/bench.sas)" = $((4 * (NVTI + NVTI6 + NXFRM))) ] || die "SA batch incomplete"
t0=$(cut -d' ' -f1 /proc/uptime)
run ip -n bench -batch /tmp/bench.links
t1=$(cut -d' ' -f1 /proc/uptime)
run ip -n bench -batch /tmp/bench.sas
t2=$(cut -d' ' -f1 /proc/uptime)
section_begin bench.setup
echo "links_batch_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" >&3
echo "sas_batch_s=$(awk -v a="$t1" -v b="$t2" 'BEGIN { print b - a }')" >&3
for k in vti vti6 xfrm; do
    echo "$k=$(ip -n bench -o link show type "$k" | grep -vc -e ip_vti0 -e ip6_vti0)" >&3
done
ip -n bench xfrm state count >&3
section_end 0
[ "$(ip -n bench -o link show | grep -c -e ' vtib' -e ' vti6b' -e ' xfrmb')" = $((NVTI + NVTI6 + NXFRM)) ] ||
    die "not all interfaces were created"
ip -n bench xfrm state count | grep -q "count $((4 * (NVTI + NVTI6 + NXFRM)))\$" || die "not all SAs were created"

# once NAME ROUND CMD... — run CMD in the namespace: "NAME run=ROUND ticks=T wall_cs=W".
once() {
    local name=$1 round=$2 t0 ticks
    shift 2
    t0=$(awk '{ printf "%d", $1 * 100 }' /proc/uptime)
    # shellcheck disable=SC2016 # expanded by the inner sh
    ticks=$(nsx bench sh -c '"$@" >/dev/null 2>&1; awk "{ print \$16 + \$17 }" /proc/$$/stat' \
        sh "$@")
    echo "$name run=$round ticks=$ticks wall_cs=$(($(awk '{ printf "%d", $1 * 100 }' /proc/uptime) - t0))"
}
# Rounds interleave the commands, so a change of load on the host (TCG) hits them alike.
section_begin bench.runs
{
    # Warm-up (page cache, crypto modules): not counted.
    nsx bench vti-agentx show --json --wait 0 >/dev/null 2>&1
    nsx bench /usr/sbin/ip -s -d link show >/dev/null 2>&1
    for r in 1 2 3 4 5 6 7 8 9; do
        once show0 $r vti-agentx show --json --wait 0
        once show1 $r vti-agentx show --json --wait 1
        # Full paths: busybox sh would run its own `ip` applet.
        once link $r /usr/sbin/ip -s -d link show
        once xfrm $r /usr/sbin/ip -s xfrm state
    done
} >&3 2>&1
section_end 0
section bench.rss sh -c '/usr/sbin/ip netns exec bench busybox time -v \
    vti-agentx show --json --wait 0 2>&1 >/dev/null | grep -i -e "maximum resident" -e "elapsed"'
# The long-running agent: CPU per poll in steady state (a poll every 2 s, no AgentX
# master, so it only polls and retries connecting) and its memory.
bg_start benchagent bench vti-agentx run --master unix:/run/no-master --interval 2
sleep 5
pid=$(cat /run/benchagent.pid)
c0=$(awk '{ print $14 + $15 }' "/proc/$pid/stat") u0=$(awk '{ printf "%d", $1 * 100 }' /proc/uptime)
sleep 20
c1=$(awk '{ print $14 + $15 }' "/proc/$pid/stat") u1=$(awk '{ printf "%d", $1 * 100 }' /proc/uptime)
section_begin bench.run
echo "ticks=$((c1 - c0)) over_cs=$((u1 - u0)) interval_s=2" >&3
grep -e VmRSS -e VmHWM "/proc/$pid/status" >&3
section_end 0
bg_stop benchagent
section bench.json_bytes sh -c '/usr/sbin/ip netns exec bench vti-agentx show --json --wait 0 | wc -c'
section bench.kernel uname -r
exit 0
