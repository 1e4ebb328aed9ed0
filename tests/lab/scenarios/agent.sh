#!/bin/sh
# Part "agent" (issue 3, "Prove it"): the real `vti-agentx run` under the guest's snmpd,
# compared with the kernel at one quiet instant; interfaces created, deleted and
# re-created while it runs; the degraded run without CAP_NET_ADMIN; and a search of
# everything the agent emitted for the SA keys. Sections agent.*; checked by
# tests/lab/checks/agent.rs (which also documents what each section proves).
#
# Under TCG every ip/snmp* call costs ~0.15 s: changes go through `ip -batch`, pings
# run in parallel.
# shellcheck source=../guest/lib.sh disable=SC1091
. /lab/lib.sh

ROOT=.1.3.6.1.4.1.8072.9999.9999.2741
IFE=$ROOT.1.3.1 # vtiIfEntry: $IFE.<column>.<ifindex>
MASTER=unix:/var/agentx/master
OUT=/tmp/agent
mkdir -p "$OUT"

uptime_cs() { awk '{ printf "%d", $1 * 100 }' /proc/uptime; }
get() { NS=left snmp snmpget "$@"; }
ifindex() { ip -n "$1" -o link show "$2" | cut -d: -f1; }

# kept NAME CMD... — section NAME, the output also kept in $OUT/NAME (for the key search).
kept() {
    local name=$1 rc
    shift
    "$@" >"$OUT/$name" 2>&1
    rc=$?
    section_begin "$name"
    cat "$OUT/$name" >&3
    section_end "$rc"
    return $rc
}

# wait_snmp OID GLOB SECS — snmpget OID until its output matches the shell pattern GLOB;
# prints the last output and after_cs=<centiseconds waited> (or timeout_cs=...; rc 1).
wait_snmp() {
    local oid=$1 glob=$2 limit=$(($3 * 100)) t0 out now
    t0=$(uptime_cs)
    while :; do
        out=$(get "$oid" 2>&1)
        now=$(uptime_cs)
        # shellcheck disable=SC2254 # GLOB is a pattern
        case $out in
            $glob) echo "$out"; echo "after_cs=$((now - t0))"; return 0 ;;
        esac
        if [ $((now - t0)) -ge "$limit" ]; then
            echo "$out"; echo "timeout_cs=$((now - t0))"; return 1
        fi
        sleep 0.2
    done
}

# wait_polls N — until the agent has swapped in N new snapshots (vtiLastPollTime
# changed N times; ≤ 30 s): the last of them was polled entirely after this call began.
wait_polls() {
    local n=$1 last cur i=0 seen=0
    last=$(get "$ROOT.1.1.2.0" 2>&1)
    while [ $seen -lt "$n" ] && [ $i -lt 100 ]; do
        sleep 0.3
        cur=$(get "$ROOT.1.1.2.0" 2>&1)
        if [ "$cur" != "$last" ]; then seen=$((seen + 1)); last=$cur; fi
        i=$((i + 1))
    done
    log "wait_polls $n: saw $seen"
    [ $seen -ge "$n" ]
}

# cpu_ticks PID — utime+stime of a process, in clock ticks (1/100 s).
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# sa_line SRC DST SPI REQID ARGS... — `ip -batch` line adding the SA mk_sa would add.
sa_line() {
    local src=$1 dst=$2 spi=$3 reqid=$4
    shift 4
    echo "xfrm state add src $src dst $dst proto esp spi $spi mode tunnel reqid $reqid" \
        "enc $ENC_ALG $(key_hex "$spi" 16) auth-trunc $AUTH_ALG $(key_hex $((spi + 1)) 32) 128 $*"
}

# pings NAME "DST COUNT [PING ARGS]"... — pings from left, in parallel; all outputs in
# section NAME, whose rc is the number of pings that failed.
pings() {
    local name=$1 spec pids='' p fails=0 i=0
    shift
    for spec in "$@"; do
        # shellcheck disable=SC2086
        (set -- $spec; d=$1 c=$2; shift 2; ping_from left "$d" "$c" "$@") >"$OUT/ping.$i" 2>&1 &
        pids="$pids $!"
        i=$((i + 1))
    done
    for p in $pids; do wait "$p" || fails=$((fails + 1)); done
    section_begin "$name"
    cat "$OUT"/ping.* >&3
    section_end "$fails"
    rm -f "$OUT"/ping.*
}

# ---- topology and the agent ---------------------------------------------------------

std_topology
# No IPv6 router solicitations through the tunnels (they repeat with back-off for a long
# time and would move counters while we compare).
for n in left right; do
    # shellcheck disable=SC2016 # expanded by the inner sh
    nsx "$n" sh -c 'for t in vti61 vti62 xfrm2; do
        echo 0 > /proc/sys/net/ipv6/conf/$t/router_solicitations; done'
done

section agent.snmpd start_snmpd left || exit 1
bg_start agent left env RUST_LOG=trace vti-agentx run --master "$MASTER" --interval 1
# Registered and polled: vtiTunnelCount.0 = 6.
section agent.start wait_snmp "$ROOT.1.1.4.0" "*Gauge32: 6*" 30 || exit 1

# ---- traffic, errors, quiet -----------------------------------------------------------

pings agent.pings "198.51.100.2 3" "198.51.100.6 3" "2001:db8:21::2 3" "2001:db8:22::2 3" \
    "198.51.100.10 3" "2001:db8:32::2 3"

# Errors (left side): vti2 and xfrm2 lose their outbound SA (carrier); xfrm1's outbound
# SA gets a hard limit of 2 packets (the 3rd fails after encryption: aborted); vti1 gets
# an MTU above the path's (too big); vti61 a route to its peer through itself (loop).
{
    echo "xfrm state delete src 192.0.2.3 dst 192.0.2.4 proto esp spi 0x1012 mark 12"
    echo "xfrm state delete src 2001:db8::5 dst 2001:db8::6 proto esp spi 0x1032"
    echo "xfrm state delete src 192.0.2.5 dst 192.0.2.6 proto esp spi 0x1031"
    sa_line 192.0.2.5 192.0.2.6 0x1031 31 if_id 31 limit packet-hard 2
    echo "link set vti1 mtu 1500"
    echo "route add 2001:db8::2/128 dev vti61"
} >"$OUT/faults.batch"
run ip -n left -batch "$OUT/faults.batch"
pings agent.fault_pings "198.51.100.6 3" "2001:db8:32::2 2" "2001:db8:21::2 2" \
    "198.51.100.2 1 -M do -s 1452" "198.51.100.10 3"

# Restore: the hard-expired SA is gone (the kernel deletes it); the new outbound SAs
# carry limits and a replay window, so those columns are not all defaults. Two SAs that
# no tunnel uses (row index 0): AEAD + ESN + 64-bit oseq, and transport mode with a mark
# mask, both with printable keys for the key search.
ip -n left xfrm state delete src 192.0.2.5 dst 192.0.2.6 proto esp spi 0x1031 2>/dev/null
{
    echo "route del 2001:db8::2/128 dev vti61"
    sa_line 192.0.2.3 192.0.2.4 0x1012 12 mark 12 replay-window 32 limit time-soft 3000 \
        limit time-hard 3600 limit byte-soft 5000000 limit packet-hard 1000000
    sa_line 2001:db8::5 2001:db8::6 0x1032 32 if_id 32
    sa_line 192.0.2.5 192.0.2.6 0x1031 31 if_id 31 limit time-use-hard 7200
    echo "xfrm state add src 192.0.2.7 dst 203.0.113.7 proto esp spi 0x7777 reqid 77" \
        "mode tunnel flag esn replay-window 128 replay-oseq 0x10 replay-oseq-hi 0x2" \
        "aead rfc4106(gcm(aes)) 0x6c61622d7365637265742d616561642d6b657921 128 if_id 0x77" \
        "limit packet-soft 900 limit packet-hard 1000 limit byte-hard 123456" \
        "limit time-soft 3000 limit time-hard 3600"
    echo "xfrm state add src 203.0.113.8 dst 192.0.2.7 proto esp spi 0x8888 reqid 88" \
        "mode transport replay-window 32 mark 0x30 mask 0xf0 enc cbc(aes)" \
        "0x00112233445566778899aabbccddeeff auth hmac(sha1)" \
        "0x7072696e7461626c652d617574682d6b65793230"
} >"$OUT/restore.batch"
run ip -n left -batch "$OUT/restore.batch"
pings agent.restored_pings "198.51.100.6 2" "2001:db8:32::2 2" "198.51.100.10 2"

# Quiet: no traffic from here on. Two new snapshots: the second was polled entirely
# after the traffic ended. Also the agent's CPU time over those polls.
pid=$(cat /run/agent.pid)
c0=$(cpu_ticks "$pid") u0=$(uptime_cs)
wait_polls 2
section agent.cpu echo "ticks=$(($(cpu_ticks "$pid") - c0)) over_cs=$(($(uptime_cs) - u0))"

# ---- the comparison: kernel, walk, bulkwalk, show, kernel again ------------------------

kept agent.t0 date +%s
kept agent.links ip -n left -s -s -d -j link show
kept agent.xfrm_state ip -n left -s xfrm state
kept agent.xfrm_stat nsx left cat /proc/net/xfrm_stat
kept agent.walk snmp snmpwalk "$ROOT"
kept agent.bulkwalk snmp snmpbulkwalk "$ROOT"
kept agent.show nsx left vti-agentx show --json --wait 0
kept agent.links_after ip -n left -s -s -d -j link show
kept agent.xfrm_state_after ip -n left -s xfrm state
kept agent.t1 date +%s
section agent.uname uname -r

# ---- interfaces come and go while the agent runs ------------------------------------------

run ip -n left link add xfrm3 type xfrm if_id 33
idx1=$(ifindex left xfrm3)
section_begin agent.dyn.add
echo "ifindex=$idx1" >&3
wait_snmp "$IFE.2.$idx1" '*STRING: "xfrm3"*' 3 >&3 2>&1
section_end $?
kept agent.dyn.disc0 get "$IFE.35.$idx1"

run ip -n left link del xfrm3
section_begin agent.dyn.del
echo "ifindex=$idx1" >&3
wait_snmp "$IFE.2.$idx1" '*No Such Instance*' 3 >&3 2>&1
section_end $?

# Same name again: a new ifindex, a new row, a later discontinuity time.
run ip -n left link add xfrm3 type xfrm if_id 33
idx2=$(ifindex left xfrm3)
section_begin agent.dyn.recreate
echo "ifindex=$idx2" >&3
wait_snmp "$IFE.2.$idx2" '*STRING: "xfrm3"*' 3 >&3 2>&1
section_end $?
kept agent.dyn.disc1 get "$IFE.35.$idx2"

# Same name and the same ifindex (`index N`), deleted and re-added between two polls:
# give it counters first (no policy with if_id 33: carrier errors), so the re-created
# interface's zeros are lower than what the agent saw.
{
    echo "addr add 198.51.100.13/30 dev xfrm3"
    echo "link set xfrm3 up"
} >"$OUT/xfrm3.batch"
run ip -n left -batch "$OUT/xfrm3.batch"
ping_from left 198.51.100.14 2 >/dev/null 2>&1
section agent.dyn.errors wait_snmp "$IFE.16.$idx2" '*Counter64: [1-9]*' 10
kept agent.dyn.before_same get "$IFE.2.$idx2" "$IFE.16.$idx2" "$IFE.35.$idx2"
printf 'link del xfrm3\nlink add xfrm3 index %s type xfrm if_id 33\n' "$idx2" >"$OUT/same.batch"
run ip -n left -batch "$OUT/same.batch"
section agent.dyn.reset wait_snmp "$IFE.16.$idx2" '*Counter64: 0' 10
kept agent.dyn.after_same get "$IFE.2.$idx2" "$IFE.16.$idx2" "$IFE.35.$idx2"
kept agent.dyn.link_same ip -n left -s -j link show xfrm3
run ip -n left link del xfrm3

# ---- without CAP_NET_ADMIN -------------------------------------------------------------

# Proof that nobody really cannot read SAs here.
kept agent.nocap.proof nobody left /usr/sbin/ip xfrm state
kept agent.nocap.show nobody left vti-agentx show --json --wait 0
section agent.stop bg_stop agent
bg_start agent-nobody left --nobody vti-agentx run --master "$MASTER" --interval 1
section agent.nocap.start wait_snmp "$ROOT.1.1.4.0" "*Gauge32: 6*" 30
# At least three polls, so "one warning" means warn-once, not "ran once".
wait_polls 3
kept agent.nocap.links ip -n left -s -s -d -j link show
kept agent.nocap.bulkwalk snmp snmpbulkwalk "$ROOT"
idx_vti1=$(ifindex left vti1)
kept agent.nocap.get get "$ROOT.1.1.6.0" "$IFE.36.$idx_vti1" "$IFE.14.$idx_vti1"
section agent.nocap.stop bg_stop agent-nobody
cp /tmp/agent-nobody.log "$OUT/nocap.log"
section agent.nocap.log cat /tmp/agent-nobody.log

# ---- the root agent's trace log ------------------------------------------------------------

cp /tmp/agent.log "$OUT/root.log"
level() { grep -E "^[0-9T:.-]+Z +($1) " "$OUT/root.log"; }
section_begin agent.root_log
echo "bytes=$(wc -c <"$OUT/root.log") lines=$(wc -l <"$OUT/root.log")" >&3
echo "trace_lines=$(level TRACE | wc -l)" >&3
echo "debug_lines=$(level DEBUG | wc -l)" >&3
echo "--- WARN/ERROR lines:" >&3
level 'WARN|ERROR' | head -n 50 >&3
echo "--- INFO lines:" >&3
level INFO | head -n 50 >&3
section_end 0

# ---- key material: nowhere in what the agent emitted ---------------------------------------
# Every key the kernel holds (from `ip -s xfrm state`), as lower- and upper-case hex, as
# the raw string when printable, and its first 8 bytes as decimal and hex lists (how
# Rust's Debug would print a byte slice), searched in every output of the agent as is and
# with all white space removed. Control: the same search in iproute2's dump must find
# every key.
awk '
function hv(c) { return index("0123456789abcdef", c) - 1 }
($1 == "enc" || $1 == "auth" || $1 == "auth-trunc" || $1 == "aead" || $1 == "comp") && $3 ~ /^0x/ {
    k = tolower(substr($3, 3))
    if (seen[k]++) next
    print k
    if (toupper(k) != k) print toupper(k)
    n = length(k) / 2; raw = ""; printable = 1; dec = ""; hx = ""
    for (i = 0; i < n; i++) {
        b = hv(substr(k, 2 * i + 1, 1)) * 16 + hv(substr(k, 2 * i + 2, 1))
        if (b < 32 || b > 126) printable = 0; else raw = raw sprintf("%c", b)
        if (i < 8) { dec = dec (i ? "," : "") b; hx = hx (i ? "," : "") sprintf("%x", b) }
    }
    if (printable) print raw
    print dec
    if (hx != dec) print hx
}' "$OUT/agent.xfrm_state" >"$OUT/key.patterns"
section agent.keys cat "$OUT/key.patterns"

# search FILE — "<name> bytes=B matches=M stripped_matches=S": M lines of FILE hold a
# key form, S = 1 if FILE with all white space removed does (forms contain none, so S
# covers M; M is kept for the control). Then the first forms found.
search() {
    local f=$1 m s
    m=$(grep -c -F -f "$OUT/key.patterns" "$f")
    s=$(tr -d ' \t\r\n' <"$f" | grep -c -F -f "$OUT/key.patterns")
    echo "${f##*/} bytes=$(wc -c <"$f") matches=$m stripped_matches=$s"
    [ "$m" = 0 ] || grep -o -F -f "$OUT/key.patterns" "$f" | sort | uniq -c | head -n 5 |
        sed 's/^/    found: /'
}
section_begin agent.keygrep
search "$OUT/agent.xfrm_state" | sed 's/^/control /' >&3
for f in root.log nocap.log agent.walk agent.bulkwalk agent.show agent.nocap.show \
    agent.nocap.bulkwalk agent.nocap.get agent.dyn.before_same agent.dyn.after_same; do
    search "$OUT/$f" | sed 's/^/emitted /' >&3
done
section_end 0
exit 0
