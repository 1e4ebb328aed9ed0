#!/bin/sh
# Part "soak" (not a test, not in all.sh's default list; run by bench/lab_soak.sh): tunnel
# create/delete cycles while snmpd (AgentX master) + `vti-agentx run` serve and a walker
# loops `snmpbulkwalk` over the agent's subtree (issue 7).
#
# Knobs (kernel command line, run.sh --append; lab_soak.sh sets them):
#   lab.soak_cycles=C     create/delete cycles (default 1000)
#   lab.soak_max_s=S      stop the cycle loop after S seconds even if C is not reached
#                         (default 1000); the report says how many cycles were done
#   lab.soak_interval=I   the agent's --interval (default 2)
#   lab.soak_base=B       standing tunnels, never touched (default 12)
#   lab.soak_window=W     churn tunnels alive at once (default 4)
#   lab.soak_pause=P      seconds to sleep after each cycle (default 0.3), so the cycles
#                         spread over many polls and walks
#
# Namespace "soak": B standing tunnels (vti, vti6, xfrm in turn, 2 ESP SAs each). Cycle c
# (one `ip -batch`) creates churn tunnel c (kind c mod 3, 2 SAs bound by mark or if_id)
# and deletes churn tunnel c-W with its SAs, so W churn tunnels exist at any time. After
# the loop the walker stops, two polls pass, and the walked vtiIfTable is compared with
# `ip -j link` (check 1: standing + the last W churn tunnels); then those W are deleted
# too (C creates, C deletes in all), two polls, check 2 (standing only).
# Addresses: 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32 only. Key
# material: fixed lab-only strings in /tmp batch files, never printed.
#
# A walk is classified (one line per walk in soak.walks):
#   ok        snmpbulkwalk exit 0, nothing on stderr, and every standing tunnel's
#             vtiIfTable row and vtiSaTable rows have exactly the varbinds they had in a
#             walk before the churn (the churn must not disturb other tunnels' rows)
#   torn      exit 0 and standing rows intact, but a churn tunnel's vtiIfTable row has
#             fewer varbinds than a full row (the walk straddled a poll that removed or
#             added it): consistent, expected, not an error
#   error     anything else: non-zero exit, timeout, "No Such Object" (not registered),
#             a standing row or SA missing or partial, stderr output
# Sections: soak.params, soak.baseline, soak.rss_start, soak.progress (a line per 50
# cycles), soak.walks (summary), soak.walk_errors (the error walks' lines), soak.rss_end,
# soak.agent (alive, registered, log warnings), soak.check1, soak.check2, soak.result.
# shellcheck source=../guest/lib.sh disable=SC1091
. /lab/lib.sh

C=$(lab_param lab.soak_cycles 1000)
MAX_S=$(lab_param lab.soak_max_s 1000)
INTERVAL=$(lab_param lab.soak_interval 2)
B=$(lab_param lab.soak_base 12)
W=$(lab_param lab.soak_window 4)
PAUSE=$(lab_param lab.soak_pause 0.3)
ROOT=.1.3.6.1.4.1.8072.9999.9999.2741
IFE=$ROOT.1.3.1 # vtiIfEntry.<column>.<ifindex>
EK=0x000102030405060708090a0b0c0d0e0f
AK=0x101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f
section soak.params echo "cycles=$C max_s=$MAX_S interval_s=$INTERVAL base=$B window=$W pause_s=$PAUSE"
uptime_cs() { awk '{ printf "%d", $1 * 100 }' /proc/uptime; }

# tun_add PREFIX ID / tun_del PREFIX ID — `ip -batch` lines creating / deleting tunnel
# PREFIX<ID> and its 2 SAs. Kind by ID mod 3; key/if_id/reqid 100+ID (standing) or
# 10000+ID (churn); SPIs 4*key and 4*key+1.
tun_lines() {
    local op=$1 p=$2 id=$3 key r l spi h
    # vti/vti6 tunnels must differ in their endpoints (the keys do not count): standing
    # and churn tunnels use different local addresses, remotes differ within each set.
    if [ "$p" = st ]; then key=$((100 + id)) h=3; else key=$((10000 + id)) h=1; fi
    spi=$((4 * key))
    case $((id % 3)) in
        0) l=192.0.2.$h r=198.51.100.$((id % 254 + 1))
           [ "$op" = add ] && echo "link add ${p}v$id type vti local $l remote $r ikey $key okey $key"
           sa_lines "$op" "$l" "$r" "$spi" "$key" "mark $key"
           [ "$op" = del ] && echo "link del ${p}v$id" ;;
        1) l=2001:db8::$h r=$(printf '2001:db8:2::%x' "$key")
           [ "$op" = add ] && echo "link add ${p}6v$id type vti6 local $l remote $r ikey $key okey $key"
           sa_lines "$op" "$l" "$r" "$spi" "$key" "mark $key"
           [ "$op" = del ] && echo "link del ${p}6v$id" ;;
        2) l=192.0.2.$((h + 1)) r=203.0.113.$((id % 250 + 1))
           [ "$op" = add ] && echo "link add ${p}x$id type xfrm if_id $key"
           sa_lines "$op" "$l" "$r" "$spi" "$key" "if_id $key"
           [ "$op" = del ] && echo "link del ${p}x$id" ;;
    esac
    return 0
}
sa_lines() { # OP LOCAL REMOTE SPI REQID MATCH — the outbound and the inbound SA
    local m=''
    # Deleting a marked SA needs its mark (the kernel's lookup key includes it).
    case $6 in mark*) m=" $6" ;; esac
    if [ "$1" = add ]; then
        echo "xfrm state add src $2 dst $3 proto esp spi $4 mode tunnel reqid $5 enc cbc(aes) $EK auth-trunc hmac(sha256) $AK 128 $6"
        echo "xfrm state add src $3 dst $2 proto esp spi $(($4 + 1)) mode tunnel reqid $5 enc cbc(aes) $EK auth-trunc hmac(sha256) $AK 128 $6"
    else
        echo "xfrm state delete src $2 dst $3 proto esp spi $4$m"
        echo "xfrm state delete src $3 dst $2 proto esp spi $(($4 + 1))$m"
    fi
}

mk_ns soak
i=1
while [ $i -le "$B" ]; do tun_lines add st $i; i=$((i + 1)); done >/tmp/soak.base
run ip -n soak -batch /tmp/soak.base
run ip -n soak link set dev lo up
ip -n soak -o link show | sed -n 's/^\([0-9]*\): st[^:@]*[:@].*/\1/p' | sort -n >/tmp/soak.standing
[ "$(wc -l </tmp/soak.standing)" = "$B" ] || die "standing tunnels missing"

start_snmpd soak >/tmp/snmpd.start 2>&1 || { cat /tmp/snmpd.start; die "snmpd did not start"; }
bg_start agent soak vti-agentx run --master unix:/var/agentx/master --interval "$INTERVAL"
agent=$(cat /run/agent.pid)
NS=soak await_vti_row "$(head -n1 /tmp/soak.standing)" >/dev/null || die "agent not serving"
sleep $((2 * INTERVAL + 1))

# The walker (runs inside the namespace): loops until /tmp/soak.stop exists; one line per
# walk in /tmp/soak.walks: "walk n=N rc=RC class=CLASS lines=L churn_rows=K torn_rows=T
# cs=CENTISECONDS why=...".
cat >/tmp/soak_walker.sh <<WALKER
#!/bin/sh
n=0
while [ ! -e /tmp/soak.stop ]; do
    n=\$((n + 1))
    t0=\$(awk '{ printf "%d", \$1 * 100 }' /proc/uptime)
    /usr/bin/snmpbulkwalk -v2c -c public -t 5 -r 1 -m '' -On -Cr25 127.0.0.1 $ROOT \
        >/tmp/walk.out 2>/tmp/walk.err
    rc=\$?
    t1=\$(awk '{ printf "%d", \$1 * 100 }' /proc/uptime)
    awk -v n=\$n -v rc=\$rc -v cs=\$((t1 - t0)) -v ife=$IFE. -v sat=$ROOT.1.4.1. \
        -v errs="\$(wc -c </tmp/walk.err)" -v basefile=/tmp/soak.baseline \
        -v standingfile=/tmp/soak.standing \
        -f /tmp/soak_classify.awk /tmp/walk.out >>/tmp/soak.walks
    [ "\$1" = once ] && break
done
WALKER
# Classify one walk (the walk on stdin/argument; -v basefile: the standing tunnels'
# baseline, "if IDX COUNT" / "sa IDX COUNT" lines; empty for the baseline walk itself,
# which writes /tmp/soak.baseline.new instead).
cat >/tmp/soak_classify.awk <<'AWK'
BEGIN {
    while ((getline l < basefile) > 0) {
        split(l, q, " "); base[q[1] " " q[2]] = q[3]; nbase++
        if (q[1] == "if") { standing[q[2]] = 1; if (minfull == "" || q[3] < minfull) minfull = q[3] }
    }
}
/No Such (Object|Instance)|No more variables/ { nosuch++ }
index($1, ife) == 1 {
    split(substr($1, length(ife) + 1), p, ".")
    ifrow[p[2]]++
}
index($1, sat) == 1 {
    split(substr($1, length(sat) + 1), p, ".")
    sarow[p[2]]++
}
{ lines++ }
END {
    why = ""
    if (rc != 0) why = why " rc"
    if (errs + 0 > 0) why = why " stderr"
    if (nosuch) why = why " nosuch"
    for (k in base) {
        split(k, q, " ")
        have = (q[1] == "if") ? ifrow[q[2]] : sarow[q[2]]
        if (have + 0 != base[k]) why = why " standing_" q[1] "_" q[2] "=" have + 0 "/" base[k]
    }
    churn = 0; torn = 0
    for (i in ifrow) if (!(i in standing)) { churn++; if (nbase && ifrow[i] < minfull) torn++ }
    cls = (why != "") ? "error" : (torn ? "torn" : "ok")
    printf "walk n=%d rc=%d class=%s lines=%d churn_rows=%d torn_rows=%d cs=%d why=%s\n",
        n, rc, cls, lines, churn, torn, cs, (why == "" ? "-" : substr(why, 2))
    if (!nbase) {
        # Only the standing tunnels' rows (SAs no tunnel uses have vtiSaIfIndex 0, and
        # churn tunnels' inbound SAs may join them).
        while ((getline l < standingfile) > 0) st[l] = 1
        for (i in ifrow) if (i in st) printf "if %s %d\n", i, ifrow[i] > "/tmp/soak.baseline.new"
        for (i in sarow) if (i in st) printf "sa %s %d\n", i, sarow[i] > "/tmp/soak.baseline.new"
    }
}
AWK
# Baseline: one walk before the churn, restricted to the standing tunnels (all of them,
# since nothing else exists yet).
: >/tmp/soak.baseline
: >/tmp/soak.walks
nsx soak sh /tmp/soak_walker.sh once
mv /tmp/soak.walks /tmp/soak.walks.baseline
mv /tmp/soak.baseline.new /tmp/soak.baseline
section_begin soak.baseline
cat /tmp/soak.walks.baseline >&3
echo "standing ifindexes: $(tr '\n' ' ' </tmp/soak.standing)" >&3
echo "baseline: $(grep -c '^if ' /tmp/soak.baseline) vtiIfTable rows, $(grep -c '^sa ' /tmp/soak.baseline) tunnels with SA rows;" \
    "varbinds per vtiIfTable row: $(awk '$1 == "if" { print $3 }' /tmp/soak.baseline | sort -u | tr '\n' ' ')" >&3
section_end 0
[ "$(grep -c '^if ' /tmp/soak.baseline)" = "$B" ] || die "baseline walk does not show the $B standing tunnels"

rss() { awk '/^(VmRSS|VmHWM)/ { printf "%s %s kB  ", $1, $2 }' "/proc/$agent/status"; echo; }
section soak.rss_start rss
ticks0=$(awk '{ print $14 + $15 }' "/proc/$agent/stat")

rm -f /tmp/soak.stop
(exec /usr/sbin/ip netns exec soak sh /tmp/soak_walker.sh) &
walker=$!
t0=$(uptime_cs)
c=0 fails=0
section_begin soak.progress
while [ $c -lt "$C" ]; do
    if [ $(($(uptime_cs) - t0)) -ge $((MAX_S * 100)) ]; then
        echo "time limit ${MAX_S}s reached after $c cycles" >&3
        break
    fi
    c=$((c + 1))
    {
        tun_lines add ch $c
        [ $c -gt "$W" ] && tun_lines del ch $((c - W))
    } >/tmp/soak.batch
    ip -force -n soak -batch /tmp/soak.batch >/tmp/soak.batch.err 2>&1 || {
        fails=$((fails + 1))
        [ $fails -le 5 ] && { echo "cycle $c: ip -batch failed:"; cat /tmp/soak.batch.err; } >&3
    }
    sleep "$PAUSE"
    if [ $((c % 50)) = 0 ]; then
        echo "cycle=$c t_s=$((($(uptime_cs) - t0) / 100)) walks=$(wc -l </tmp/soak.walks)" \
            "errors=$(grep -c 'class=error' /tmp/soak.walks) $(rss)" >&3
    fi
done
t1=$(uptime_cs)
echo "cycles=$c seconds=$(((t1 - t0) / 100)) batch_failures=$fails" >&3
section_end 0
touch /tmp/soak.stop
wait $walker
ticks1=$(awk '{ print $14 + $15 }' "/proc/$agent/stat")

section_begin soak.walks
awk '{ for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
       n++; cls[f["class"]]++; churn += f["churn_rows"] > 0; cs[n] = f["cs"]; vb += f["lines"] }
     END { printf "walks=%d ok=%d torn=%d error=%d walks_seeing_churn_tunnels=%d varbinds=%d", n, cls["ok"], cls["torn"], cls["error"], churn, vb
           for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (cs[j] < cs[i]) { t = cs[i]; cs[i] = cs[j]; cs[j] = t }
           if (n) printf " walk_s_median=%.2f walk_s_max=%.2f", cs[int((n + 1) / 2)] / 100, cs[n] / 100
           print "" }' /tmp/soak.walks >&3
section_end 0
section soak.walk_errors sh -c 'grep "class=error" /tmp/soak.walks | head -n 50; true'

# check NAME — after two polls: the walked vtiIfTable's ifindexes (vtiIfName column)
# equal the tunnel interfaces of `ip -j link` (vti, vti6, xfrm; fallback devices out).
check() {
    local last cur i=0 seen=0
    # Two new snapshots (vtiLastPollTime changes): the second polled after the change.
    last=$(NS=soak snmp snmpget "$ROOT.1.1.2.0" 2>&1)
    while [ $seen -lt 2 ] && [ $i -lt 100 ]; do
        sleep 0.3
        cur=$(NS=soak snmp snmpget "$ROOT.1.1.2.0" 2>&1)
        if [ "$cur" != "$last" ]; then seen=$((seen + 1)); last=$cur; fi
        i=$((i + 1))
    done
    NS=soak snmp snmpbulkwalk -Cr25 "$IFE.2" >/tmp/check.walk 2>&1
    sed -n "s/^$IFE\\.2\\.\\([0-9]*\\) = .*/\\1/p" /tmp/check.walk | sort -n >/tmp/check.snmp
    ip -n soak -d -o link show | awk '{ idx = $1; sub(":", "", idx); name = $2; sub(/[:@].*/, "", name) }
        / (vti|vti6|xfrm) / && name != "ip_vti0" && name != "ip6_vti0" { print idx }' |
        sort -n >/tmp/check.ip
    section_begin "$1"
    echo "polls_seen=$seen snmp_rows=$(wc -l </tmp/check.snmp) ip_tunnels=$(wc -l </tmp/check.ip)" >&3
    if cmp -s /tmp/check.snmp /tmp/check.ip; then
        echo "equal=yes" >&3
        section_end 0
    else
        echo "equal=no" >&3
        diff /tmp/check.ip /tmp/check.snmp >&3
        section_end 1
    fi
}
check soak.check1
ok1=$?
# The last W churn tunnels go too: every created tunnel has been deleted.
{
    i=$((c - W + 1))
    [ $i -ge 1 ] || i=1
    while [ $i -le $c ]; do tun_lines del ch $i; i=$((i + 1)); done
} >/tmp/soak.batch
ip -force -n soak -batch /tmp/soak.batch >/tmp/soak.batch.err 2>&1 || fails=$((fails + 1))
check soak.check2
ok2=$?

section soak.rss_end rss
section_begin soak.agent
alive=no
kill -0 "$agent" 2>/dev/null && alive=yes
reg=no
NS=soak snmp snmpget "$IFE.2.$(head -n1 /tmp/soak.standing)" 2>/dev/null | grep -q STRING && reg=yes
echo "alive=$alive registered=$reg snmpd_alive=$(kill -0 "$(cat /run/snmpd.soak.pid)" 2>/dev/null && echo yes || echo no)" >&3
echo "cpu_ticks_during_loop=$((ticks1 - ticks0)) loop_cs=$((t1 - t0))" >&3
echo "log_lines=$(wc -l </tmp/agent.log) warn=$(grep -c WARN /tmp/agent.log) error=$(grep -c ERROR /tmp/agent.log) panic=$(grep -ci panic /tmp/agent.log)" >&3
echo "first warnings/errors (cut to 200 characters):" >&3
grep -e WARN -e ERROR /tmp/agent.log | cut -c1-200 | head -n 10 >&3
section_end 0

section_begin soak.result
errs=$(grep -c 'class=error' /tmp/soak.walks)
echo "cycles=$c of $C batch_failures=$fails walk_errors=$errs check1=$ok1 check2=$ok2 alive=$alive registered=$reg" >&3
section_end 0
exit 0
