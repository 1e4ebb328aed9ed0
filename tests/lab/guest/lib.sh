# shellcheck shell=dash
# Guest-side helpers for lab scenarios (busybox sh). Source it: `. /lab/lib.sh`.
#
# Results: every `section NAME CMD...` writes, to fd 3 (the results serial port),
#     === BEGIN NAME ===
#     <stdout+stderr of CMD, streamed as it comes>
#     === END NAME rc=<exit code> ===
# A newline is always written before the END line, so END starts a line even when the
# output does not end with one: the body is exactly what lies between the BEGIN line and
# that newline. Section names are unique within a run (the host parser keys on them).
#
# Tunnel helpers act on the namespace in $NS (default "left"). Each tunnel is set up by
# a *_pair helper on both sides: "left" (where the agent runs) and "right" (the peer),
# with mirrored SAs and policies.

NS=${NS:-left}

# Debian's busybox sh runs its own applets in preference to $PATH (FEATURE_SH_STANDALONE):
# a bare `ip` would be busybox's (no netns, no xfrm). Pin the real tools. Programs run
# via `ip netns exec`, `sh -c` or setpriv use $PATH and get the real ones anyway.
ip() { /usr/sbin/ip "$@"; }
tc() { /usr/sbin/tc "$@"; }
ping() { /usr/bin/ping "$@"; }
modprobe() { /usr/sbin/modprobe "$@"; }
setpriv() { /usr/bin/setpriv "$@"; }
# ESP algorithms of every SA (keys come from key_hex: deterministic, lab-only).
ENC_ALG='cbc(aes)'
AUTH_ALG='hmac(sha256)'

# log MSG — to the console, with the guest's uptime (read without a fork: under TCG
# every process costs).
log() {
    local up rest
    read -r up rest </proc/uptime
    echo "lab[$up]: $*"
}
die() { echo "lab: FATAL: $*"; exit 1; }

# section NAME CMD... — run CMD, capture its output into result section NAME.
section() {
    local name=$1 rc; shift
    echo "=== BEGIN $name ===" >&3
    "$@" >&3 2>&1
    rc=$?
    printf '\n=== END %s rc=%s ===\n' "$name" "$rc" >&3
    return $rc
}
# section_begin NAME / section_end [RC] — for sections built from several commands.
section_begin() { LAB_SECTION=$1; echo "=== BEGIN $1 ===" >&3; }
section_end() { printf '\n=== END %s rc=%s ===\n' "$LAB_SECTION" "${1:-0}" >&3; }

# lab_param NAME DEFAULT — value of NAME=... on the kernel command line (run.sh
# --append), else DEFAULT. For bench parts' knobs (lab.bench_tunnels=10000).
lab_param() {
    local v
    v=$(tr ' ' '\n' </proc/cmdline | sed -n "s/^$1=//p" | tail -n1)
    echo "${v:-$2}"
}

# run CMD... — log and run a command (to the console), abort the scenario on failure.
run() {
    log "+ $*"
    "$@" || die "failed: $*"
}

# nsx NS CMD... — run CMD in network namespace NS.
nsx() { local n=$1; shift; ip netns exec "$n" "$@"; }

# ---- namespaces and underlay -------------------------------------------------------

# mk_ns NAME — create a network namespace with lo up.
mk_ns() {
    run ip netns add "$1"
    run ip -n "$1" link set lo up
}

# mk_veth NS1 IF1 NS2 IF2 — a veth pair joining two namespaces, both ends up.
mk_veth() {
    run ip link add "$2" netns "$1" type veth peer name "$4" netns "$3"
    run ip -n "$1" link set "$2" up
    run ip -n "$3" link set "$4" up
}

# addr NS IF ADDR/LEN — add an address (IPv6 without DAD, usable at once).
addr() {
    case $3 in
        *:*) run ip -n "$1" addr add "$3" dev "$2" nodad ;;
        *)   run ip -n "$1" addr add "$3" dev "$2" ;;
    esac
}

# ---- tunnel interfaces (in $NS) ----------------------------------------------------
# mk_* create the interface DOWN: add addresses, SAs and policies first, then `link_up`,
# so nothing the kernel sends at link-up (MLD, RS) meets a half-built tunnel and counts
# as an error.

# mk_vti NAME LOCAL REMOTE KEY [DEV] — classic vti (IPv4) with ikey=okey=KEY.
mk_vti() {
    run ip -n "$NS" link add "$1" type vti local "$2" remote "$3" ikey "$4" okey "$4" ${5:+dev "$5"}
}

# mk_vti6 NAME LOCAL REMOTE KEY [DEV] — vti6 (IPv6 outer) with ikey=okey=KEY.
mk_vti6() {
    run ip -n "$NS" link add "$1" type vti6 local "$2" remote "$3" ikey "$4" okey "$4" ${5:+dev "$5"}
}

# mk_xfrm NAME IFID [DEV] — XFRM interface; without DEV like VyOS >= 1.4 creates it.
mk_xfrm() {
    run ip -n "$NS" link add "$1" type xfrm ${3:+dev "$3"} if_id "$2"
}

# link_up NAME — bring an interface of $NS up.
link_up() { run ip -n "$NS" link set "$1" up; }

# no_ipv6 NAME — disable IPv6 on an interface of $NS (an IPv4-only tunnel would
# otherwise count the link-local IPv6 traffic the kernel sends as TX errors: no policy).
no_ipv6() { run nsx "$NS" sysctl -qw "net.ipv6.conf.$1.disable_ipv6=1"; }

# ---- SAs and policies (in $NS) -----------------------------------------------------

# key_hex SPI BYTES — deterministic hex key material derived from the SPI.
key_hex() {
    local k out=0x
    k=$(printf '%08x' "$(($1))")
    while [ ${#out} -lt $(($2 * 2 + 2)) ]; do out=$out$k; done
    echo "$out" | cut -c1-$(($2 * 2 + 2))
}

# mk_sa SRC DST SPI REQID ARGS... — ESP tunnel-mode SA, cbc(aes)+hmac(sha256). ARGS are
# appended verbatim: the match (`mark 5`, `if_id 0x42`) and extras (`sel src 0.0.0.0/0
# dst 0.0.0.0/0`, `limit packet-hard 2`, `replay-oseq 0xfffffff0`, ...).
# The kernel matches SA to policy template on reqid exactly: use the template's.
mk_sa() {
    local src=$1 dst=$2 spi=$3 reqid=$4; shift 4
    run ip -n "$NS" xfrm state add src "$src" dst "$dst" proto esp spi "$spi" \
        mode tunnel reqid "$reqid" \
        enc "$ENC_ALG" "$(key_hex "$spi" 16)" \
        auth-trunc "$AUTH_ALG" "$(key_hex "$((spi + 1))" 32)" 128 "$@"
}

# mk_pol DIR SELSRC SELDST TSRC TDST REQID ARGS... — policy with one ESP tunnel-mode
# template; ARGS (the match: `mark 5`, `if_id 0x42`; `action block`, ...) go before it.
mk_pol() {
    local dir=$1 ss=$2 sd=$3 ts=$4 td=$5 reqid=$6; shift 6
    run ip -n "$NS" xfrm policy add src "$ss" dst "$sd" dir "$dir" "$@" \
        tmpl src "$ts" dst "$td" proto esp reqid "$reqid" mode tunnel
}

# any_net ADDR — the all-addresses selector of ADDR's family.
any_net() { case $1 in *:*) echo ::/0 ;; *) echo 0.0.0.0/0 ;; esac; }

# sa_policy_pair LOCAL REMOTE SPI_OUT SPI_IN REQID INNER_ADDR MATCH... — in $NS: the
# outbound and inbound SAs and the out/in policies of one tunnel. INNER_ADDR only gives
# the inner family (selectors are all-addresses).
sa_policy_pair() {
    local l=$1 r=$2 so=$3 si=$4 reqid=$5 any sel=''
    any=$(any_net "$6"); shift 6
    # Inner family differs from the outer: the SA needs a selector of the inner family
    # (lab-confirmed: else XfrmOutNoStates although an SA exists).
    if [ "$(any_net "$l")" != "$any" ]; then sel="sel src $any dst $any"; fi
    # shellcheck disable=SC2086
    mk_sa "$l" "$r" "$so" "$reqid" "$@" $sel
    # shellcheck disable=SC2086
    mk_sa "$r" "$l" "$si" "$reqid" "$@" $sel
    mk_pol out "$any" "$any" "$l" "$r" "$reqid" "$@"
    mk_pol in "$any" "$any" "$r" "$l" "$reqid" "$@"
}

# ---- whole tunnels, both sides -----------------------------------------------------
# Left uses LOCAL/INNER_L, right the mirror image; SPI_OUT is the left->right SA.
# Inner addresses get a /30 (IPv4) or /64 (IPv6) on the tunnel interface; IPv4-inner
# tunnels get IPv6 disabled. Interfaces come up last.

inner_len() { case $1 in *:*) echo 64 ;; *) echo 30 ;; esac; }

# tunnel_finish NAME INNER_L INNER_R — on both sides: addresses, IPv6 off for IPv4
# inner, then up (called after the SAs and policies exist).
tunnel_finish() {
    local name=$1 il=$2 ir=$3 len side
    len=$(inner_len "$il")
    for side in left right; do
        case $il in *:*) ;; *) NS=$side no_ipv6 "$name" ;; esac
    done
    addr left "$name" "$il/$len"
    addr right "$name" "$ir/$len"
    NS=left link_up "$name"
    NS=right link_up "$name"
}

# vti_pair NAME LOCAL REMOTE KEY INNER_L INNER_R SPI_OUT SPI_IN — vti or vti6 (by the
# family of LOCAL), SAs and policies marked KEY, reqid KEY.
vti_pair() {
    local name=$1 lo=$2 re=$3 key=$4 il=$5 ir=$6 so=$7 si=$8 kind=mk_vti
    case $lo in *:*) kind=mk_vti6 ;; esac
    NS=left  $kind "$name" "$lo" "$re" "$key"
    NS=right $kind "$name" "$re" "$lo" "$key"
    NS=left  sa_policy_pair "$lo" "$re" "$so" "$si" "$key" "$il" mark "$key"
    NS=right sa_policy_pair "$re" "$lo" "$si" "$so" "$key" "$il" mark "$key"
    tunnel_finish "$name" "$il" "$ir"
}

# xfrm_pair NAME IFID LOCAL REMOTE INNER_L INNER_R SPI_OUT SPI_IN [DEV_L DEV_R] — XFRM
# interfaces, SAs and policies with if_id IFID, reqid IFID.
xfrm_pair() {
    local name=$1 id=$2 lo=$3 re=$4 il=$5 ir=$6 so=$7 si=$8 dl=${9:-} dr=${10:-}
    NS=left  mk_xfrm "$name" "$id" "$dl"
    NS=right mk_xfrm "$name" "$id" "$dr"
    NS=left  sa_policy_pair "$lo" "$re" "$so" "$si" "$id" "$il" if_id "$id"
    NS=right sa_policy_pair "$re" "$lo" "$si" "$so" "$id" "$il" if_id "$id"
    tunnel_finish "$name" "$il" "$ir"
}

# ---- traffic and dumps ---------------------------------------------------------------

# ping_from NS DST [COUNT [ARGS...]] — quick pings (interval 0.2 s); ping's exit code.
ping_from() {
    local n=$1 d=$2 c=${3:-3}
    shift 2; [ $# -gt 0 ] && shift
    nsx "$n" ping -n -c "$c" -i 0.2 -W 2 "$@" "$d"
}

# xfrm_state_dump — `ip -s -j xfrm state` where this iproute2 prints JSON, else text.
xfrm_state_dump() {
    local j
    j=$(ip -n "$NS" -s -j xfrm state 2>/dev/null)
    case $j in
        \[*) echo "$j" ;;
        *)   ip -n "$NS" -s xfrm state ;;
    esac
}

# dump_state PREFIX — the standard dumps of $NS as sections PREFIX.links,
# PREFIX.xfrm_state, PREFIX.xfrm_policy, PREFIX.xfrm_stat.
dump_state() {
    section "$1.links" ip -n "$NS" -s -s -d -j link show
    section "$1.xfrm_state" xfrm_state_dump
    section "$1.xfrm_policy" ip -n "$NS" xfrm policy
    section "$1.xfrm_stat" nsx "$NS" cat /proc/net/xfrm_stat
}

# ---- the standard topology -------------------------------------------------------------
# Namespaces "left" (agent side) and "right" (peer), joined by veth "ul" (underlay) on
# both sides. Left takes the odd host numbers, right the even ones. Six tunnels, each on
# its own pair of outer addresses so traffic and SAs are attributable per tunnel:
#
#   name   kind   outer (left <-> right)        key/if_id  inner (left <-> right)         SPI out/in
#   vti1   vti    192.0.2.1   <-> 192.0.2.2      key 11     198.51.100.1/30 <-> .2         0x1011/0x2011
#   vti2   vti    192.0.2.3   <-> 192.0.2.4      key 12     198.51.100.5/30 <-> .6         0x1012/0x2012
#   vti61  vti6   2001:db8::1 <-> 2001:db8::2    key 21     2001:db8:21::1/64 <-> ::2      0x1021/0x2021
#   vti62  vti6   2001:db8::3 <-> 2001:db8::4    key 22     2001:db8:22::1/64 <-> ::2      0x1022/0x2022
#   xfrm1  xfrm   192.0.2.5   <-> 192.0.2.6      if_id 31   198.51.100.9/30 <-> .10        0x1031/0x2031  (dev ul)
#   xfrm2  xfrm   2001:db8::5 <-> 2001:db8::6    if_id 32   2001:db8:32::1/64 <-> ::2      0x1032/0x2032  (no dev, as VyOS)
#
# 203.0.113.0/24 is left free for extra peers in fault scenarios. The kernel also
# creates its fallback devices ip_vti0 / ip6_vti0 (kinds vti / vti6, down) in each
# namespace once ip_vti / ip6_vti are loaded.
# shellcheck disable=SC2034 # used by scenarios
LAB_TUNNELS="vti1 vti2 vti61 vti62 xfrm1 xfrm2"

# peer_inner NAME — the right side's inner address of a standard tunnel.
peer_inner() {
    case $1 in
        vti1) echo 198.51.100.2 ;;
        vti2) echo 198.51.100.6 ;;
        vti61) echo 2001:db8:21::2 ;;
        vti62) echo 2001:db8:22::2 ;;
        xfrm1) echo 198.51.100.10 ;;
        xfrm2) echo 2001:db8:32::2 ;;
        *) die "peer_inner: unknown tunnel $1" ;;
    esac
}

std_topology() {
    local a
    mk_ns left
    mk_ns right
    mk_veth left ul right ul
    for a in 1 3 5 7; do
        addr left ul "192.0.2.$a/24"
        addr left ul "2001:db8::$a/64"
        addr right ul "192.0.2.$((a + 1))/24"
        addr right ul "2001:db8::$((a + 1))/64"
    done
    vti_pair vti1 192.0.2.1 192.0.2.2 11 198.51.100.1 198.51.100.2 0x1011 0x2011
    vti_pair vti2 192.0.2.3 192.0.2.4 12 198.51.100.5 198.51.100.6 0x1012 0x2012
    vti_pair vti61 2001:db8::1 2001:db8::2 21 2001:db8:21::1 2001:db8:21::2 0x1021 0x2021
    vti_pair vti62 2001:db8::3 2001:db8::4 22 2001:db8:22::1 2001:db8:22::2 0x1022 0x2022
    xfrm_pair xfrm1 31 192.0.2.5 192.0.2.6 198.51.100.9 198.51.100.10 0x1031 0x2031 ul ul
    xfrm_pair xfrm2 32 2001:db8::5 2001:db8::6 2001:db8:32::1 2001:db8:32::2 0x1032 0x2032
}

# ---- net-snmp --------------------------------------------------------------------------

# start_snmpd NS — snmpd in namespace NS as the AgentX master: SNMP on udp
# 127.0.0.1:161 (v2c community "public", read-only), AgentX on unix:/var/agentx/master
# (mode 0777, so an agent run as nobody via setpriv can connect). Log /tmp/snmpd.NS.log,
# pid /run/snmpd.NS.pid. Waits until it answers (≤ 20 s); returns non-zero otherwise.
# Extra snmpd.conf lines can be passed in $SNMPD_EXTRA_CONF. No MIB files are loaded
# (Debian ships the IETF MIBs only in non-free snmp-mibs-downloader): use numeric OIDs.
start_snmpd() {
    local n=$1 conf=/tmp/snmpd.$1.conf i=0
    mkdir -p /var/agentx "/tmp/snmp.$n"
    cat >"$conf" <<CONF
master agentx
agentXSocket unix:/var/agentx/master
agentXPerms 0777 0777
agentaddress udp:127.0.0.1:161
rocommunity public 127.0.0.1
sysDescr vti-agentx lab $(uname -r)
${SNMPD_EXTRA_CONF:-}
CONF
    SNMP_PERSISTENT_DIR=/tmp/snmp.$n nsx "$n" /usr/sbin/snmpd -C -c "$conf" -m '' \
        -Lf "/tmp/snmpd.$n.log" -p "/run/snmpd.$n.pid" || return 1
    while [ $i -lt 40 ]; do
        # sysUpTime.0
        if NS=$n snmp snmpget .1.3.6.1.2.1.1.3.0 >/dev/null 2>&1; then
            echo "snmpd answering in $n"
            [ -S /var/agentx/master ] && echo "agentx socket /var/agentx/master"
            return 0
        fi
        sleep 0.5
        i=$((i + 1))
    done
    cat "/tmp/snmpd.$n.log"
    return 1
}

# stop_snmpd NS
stop_snmpd() { [ -f "/run/snmpd.$1.pid" ] && kill "$(cat "/run/snmpd.$1.pid")"; }

# snmp CMD ARGS... — a net-snmp client (snmpget, snmpgetnext, snmpwalk, snmpbulkwalk)
# against the snmpd of namespace $NS: v2c/public, numeric OIDs (-On, no MIBs loaded),
# e.g. `snmp snmpbulkwalk .1.3.6.1.2.1.31.1.1.1.1` (IF-MIB::ifName).
snmp() {
    local cmd=$1; shift
    nsx "$NS" "/usr/bin/$cmd" -v2c -c public -t 2 -r 1 -m '' -On 127.0.0.1 "$@"
}

# ---- unprivileged and background processes -------------------------------------------

# setpriv_args [--net-admin] — setpriv options for uid/gid 65534 with no groups; with
# --net-admin, CAP_NET_ADMIN kept as an ambient capability (XFRM netlink needs it).
setpriv_args() {
    echo "--reuid=65534 --regid=65534 --clear-groups"
    if [ "${1:-}" = --net-admin ]; then
        echo "--inh-caps=+net_admin --ambient-caps=+net_admin"
    fi
}

# nobody NS [--net-admin] CMD... — run CMD in namespace NS as nobody (see setpriv_args).
nobody() {
    local n=$1 args
    shift
    args=$(setpriv_args "${1:-}")
    [ "${1:-}" = --net-admin ] && shift
    # shellcheck disable=SC2086
    nsx "$n" /usr/bin/setpriv $args "$@"
}

# bg_start NAME NS [--nobody|--nobody-net-admin] CMD... — start CMD in namespace NS in
# the background (as nobody if asked); output to /tmp/NAME.log, pid to /run/NAME.pid.
bg_start() {
    local name=$1 n=$2 priv=''
    shift 2
    case ${1:-} in
        --nobody) priv="/usr/bin/setpriv $(setpriv_args)"; shift ;;
        --nobody-net-admin) priv="/usr/bin/setpriv $(setpriv_args --net-admin)"; shift ;;
    esac
    log "+ [$name in $n] $priv $*"
    # exec all the way down, so the pid is CMD's own (ip netns exec and setpriv exec too).
    # shellcheck disable=SC2086
    (exec /usr/sbin/ip netns exec "$n" $priv "$@") >"/tmp/$name.log" 2>&1 &
    echo $! >"/run/$name.pid"
}

# bg_stop NAME — SIGTERM, wait up to 5 s, then SIGKILL; returns the process's exit
# status (143 = ended by SIGTERM).
bg_stop() {
    local pid i=0
    pid=$(cat "/run/$1.pid" 2>/dev/null) || return 0
    kill "$pid" 2>/dev/null
    while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
    kill -9 "$pid" 2>/dev/null
    wait "$pid"
}

# ---- between parts -------------------------------------------------------------------

# lab_reset — back to a clean guest (all.sh calls it before and after every part):
# stops every process started by bg_start or start_snmpd (their /run/*.pid files),
# kills whatever still runs inside any network namespace and deletes every namespace
# (their interfaces, routes, SAs and policies go with them), flushes SAs, policies and
# tunnel interfaces of the initial namespace (parts should not use it), removes the
# AgentX socket and the pid files. Always returns 0.
lab_reset() {
    local f pid n i dev
    for f in /run/*.pid; do
        [ -f "$f" ] || continue
        pid=$(cat "$f" 2>/dev/null)
        if [ -n "$pid" ] && kill "$pid" 2>/dev/null; then
            i=0
            while kill -0 "$pid" 2>/dev/null && [ $i -lt 30 ]; do sleep 0.1; i=$((i + 1)); done
            kill -9 "$pid" 2>/dev/null
        fi
        rm -f "$f"
    done
    for n in $(ip netns list 2>/dev/null | cut -d' ' -f1); do
        for pid in $(ip netns pids "$n" 2>/dev/null); do kill -9 "$pid" 2>/dev/null; done
        ip netns del "$n" 2>/dev/null
    done
    ip xfrm state flush 2>/dev/null
    ip xfrm policy flush 2>/dev/null
    for dev in $(ip -o link show 2>/dev/null |
                 sed -n 's/^[0-9]*: \([^:@]*\)[:@].*/\1/p'); do
        case $dev in lo|ip_vti0|ip6_vti0|ip6tnl0|sit0|tunl0|ip6gre0|gre0|gretap0|erspan0) continue ;; esac
        ip link del "$dev" 2>/dev/null
    done
    rm -f /var/agentx/master
    return 0
}

# ---- notifications and the agent's MIB (faults and alarms parts) -----------------------

# start_snmptrapd NS PORT LOG — snmptrapd in NS (background job "snmptrapd": bg_stop
# snmptrapd) on udp 127.0.0.1:PORT, accepting v1/v2c community "public", no MIBs,
# numeric OIDs, one line per notification in LOG: "TRAP <varbinds, tab-separated>".
# Waits until the port is bound (<= 10 s).
start_snmptrapd() {
    local n=$1 port=$2 logf=$3 i=0 hexport
    mkdir -p "/tmp/snmptrapd.$n"
    printf 'authCommunity log public\ndisablePerl true\n' >"/tmp/snmptrapd.$n.conf"
    : >"$logf"
    bg_start snmptrapd "$n" /usr/bin/env MIBS= "SNMP_PERSISTENT_DIR=/tmp/snmptrapd.$n" \
        /usr/sbin/snmptrapd -f -C -c "/tmp/snmptrapd.$n.conf" -m '' -On -Lf "$logf" \
        -F 'TRAP %v\n' "udp:127.0.0.1:$port"
    hexport=$(printf '%04X' "$port")
    while [ $i -lt 40 ]; do
        if nsx "$n" cat /proc/net/udp | grep -q ":$hexport "; then
            echo "snmptrapd listening on 127.0.0.1:$port in $n"
            return 0
        fi
        sleep 0.25
        i=$((i + 1))
    done
    cat /tmp/snmptrapd.log "$logf"
    return 1
}

# await_vti_row IFINDEX — wait (<= 30 s) until the agent serves vtiIfName.IFINDEX of
# IPSEC-VTI-MIB (default root) through the snmpd of $NS; prints the answer.
await_vti_row() {
    local oid=.1.3.6.1.4.1.8072.9999.9999.2741.1.3.1.2.$1 i=0
    while [ $i -lt 60 ]; do
        snmp snmpget "$oid" 2>/dev/null | grep -q STRING && break
        sleep 0.5
        i=$((i + 1))
    done
    snmp snmpget "$oid" | grep STRING
}
