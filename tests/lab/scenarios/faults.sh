#!/bin/sh
# faults part (issue 4, "Prove it"): every TX fault of shared/reference/lab-results.md
# injected into real tunnels, with snmpd + `vti-agentx run --interval 1` in the left
# namespace, and what the kernel and the agent (through snmpd) say before and after.
# Checked by tests/lab/checks/faults.rs.
#
# Tunnels under test (left side; the right namespace runs the mirror tunnels), one per
# kind, all faulted at the same time in each scenario (each on its own outer addresses,
# SAs, policies and routes, so a fault on one cannot move another's counters — except
# the underlay qdisc, which is shared on purpose):
#
#   label     tunnel  outer                          key/if_id  inner peer
#   vti       vti1    192.0.2.1   -> 192.0.2.2        mark 11    198.51.100.2
#   vti6      vti61   2001:db8::1 -> 2001:db8::2      mark 21    2001:db8:21::2
#   vti6-in4  vti64   2001:db8::7 -> 2001:db8::8      mark 24    198.51.100.14   (added here)
#   xfrm      xfrm1   192.0.2.5   -> 192.0.2.6        if_id 31   198.51.100.10   (dev ul)
#   xfrm6     xfrm2   2001:db8::5 -> 2001:db8::6      if_id 32   2001:db8:32::2  (no dev)
#
# and, for the "siblings" scenario only (issue 15), two tunnels of each kind to one peer,
# all added here; the second of each pair loses its outbound SA while the first carries
# traffic. A vti/vti6 pair needs two local addresses (the kernel refuses two vti tunnels
# with the same endpoints) and shares its mark, so each SA is a near miss of the other
# tunnel (same mark, other source); its policies select the tunnel's inner /30 (per-subnet
# tunnels). The vti6 pair carries IPv4 (no link-local IPv6 the /30 policies would miss).
#
#   vti       vti3    192.0.2.9   -> 192.0.2.10       mark 13    198.51.100.18
#   vti       vti4    192.0.2.11  -> 192.0.2.10       mark 13    198.51.100.22
#   vti6-in4  vti65   2001:db8::9 -> 2001:db8::a      mark 25    198.51.100.26
#   vti6-in4  vti66   2001:db8::b -> 2001:db8::a      mark 25    198.51.100.30
#   xfrm      xfrm3   192.0.2.13  -> 192.0.2.14       if_id 33   198.51.100.34
#   xfrm      xfrm4   192.0.2.13  -> 192.0.2.14       if_id 34   198.51.100.38
#
# Each scenario S writes sections
#   faults.S.plan                       "tunnel label fault pings" per faulted tunnel
#   faults.S.before.links / .after.links    ip -s -s -j link show (left)
#   faults.S.before.mib   / .after.mib      one snmpget of the vtiIfEntry columns
#   faults.S.before.xfrm_stat / .after.xfrm_stat
#   faults.S.ping.TUNNEL                ping output (rc = ping's)
# Order per scenario: read, inject, ping (all tunnels at once), wait 2.5 s (two agent
# polls after the last packet), read, restore, wait 0.5 s. No counter moves between
# the restore and the next "before" read, so the agent (1 s polls) is in step there.
# shellcheck source=../guest/lib.sh disable=SC1091
. /lab/lib.sh


FAULT_TUNNELS="vti1 vti61 vti64 xfrm1 xfrm2"
BYPASS_PRIORITY=4242 # the defaultblock scenario's bypass policies
ROOT=.1.3.6.1.4.1.8072.9999.9999.2741
# vtiIfEntry columns read: txPackets txOctets txErrors txDropped carrier collisions
# aborted, CatCarrier CatLoop CatTooBig CatOutputErrors CatDropped
# SuspectedUnderlayDrops Cause Diagnosis LastErrorTime, OutSaCount.
MIB_COLS="14 15 16 17 18 19 20 26 27 28 29 30 31 32 33 34 36"

# tun NAME — set the T_* variables of a tunnel (left side's view).
tun() {
    T=$1 T_SEL='' T_OTHER=''
    case $1 in
        vti1)  T_KIND=vti;      T_L=192.0.2.1;   T_R=192.0.2.2;   T_KEY=11; T_SO=0x1011; T_PEER=198.51.100.2 ;;
        vti2)  T_KIND=vti;      T_L=192.0.2.3;   T_R=192.0.2.4;   T_KEY=12; T_SO=0x1012; T_PEER=198.51.100.6 ;;
        vti61) T_KIND=vti6;     T_L=2001:db8::1; T_R=2001:db8::2; T_KEY=21; T_SO=0x1021; T_PEER=2001:db8:21::2 ;;
        vti62) T_KIND=vti6;     T_L=2001:db8::3; T_R=2001:db8::4; T_KEY=22; T_SO=0x1022; T_PEER=2001:db8:22::2 ;;
        vti64) T_KIND=vti6-in4; T_L=2001:db8::7; T_R=2001:db8::8; T_KEY=24; T_SO=0x1024; T_PEER=198.51.100.14
               T_SEL='sel src 0.0.0.0/0 dst 0.0.0.0/0' ;;
        xfrm1) T_KIND=xfrm;     T_L=192.0.2.5;   T_R=192.0.2.6;   T_KEY=31; T_SO=0x1031; T_PEER=198.51.100.10 ;;
        xfrm2) T_KIND=xfrm6;    T_L=2001:db8::5; T_R=2001:db8::6; T_KEY=32; T_SO=0x1032; T_PEER=2001:db8:32::2 ;;
        vti3)  T_KIND=vti;      T_L=192.0.2.9;   T_R=192.0.2.10;  T_KEY=13; T_SO=0x1013; T_PEER=198.51.100.18 ;;
        vti4)  T_KIND=vti;      T_L=192.0.2.11;  T_R=192.0.2.10;  T_KEY=13; T_SO=0x1113; T_PEER=198.51.100.22 ;;
        vti65) T_KIND=vti6-in4; T_L=2001:db8::9; T_R=2001:db8::a; T_KEY=25; T_SO=0x1025; T_PEER=198.51.100.26
               T_SEL='sel src 0.0.0.0/0 dst 0.0.0.0/0' ;;
        vti66) T_KIND=vti6-in4; T_L=2001:db8::b; T_R=2001:db8::a; T_KEY=25; T_SO=0x1125; T_PEER=198.51.100.30
               T_SEL='sel src 0.0.0.0/0 dst 0.0.0.0/0' ;;
        xfrm3) T_KIND=xfrm;     T_L=192.0.2.13;  T_R=192.0.2.14;  T_KEY=33; T_SO=0x1033; T_PEER=198.51.100.34 ;;
        xfrm4) T_KIND=xfrm;     T_L=192.0.2.13;  T_R=192.0.2.14;  T_KEY=34; T_SO=0x1034; T_PEER=198.51.100.38 ;;
        *) die "tun: unknown tunnel $1" ;;
    esac
    case $T_KIND in
        xfrm*) T_MATCH="if_id $T_KEY" T_DELMATCH='' ;;
        *)     T_MATCH="mark $T_KEY"  T_DELMATCH="mark $T_KEY" ;;
    esac
    T_ANY=$(any_net "$T_PEER")
    # Another peer, reachable on the underlay (routes added below), for the
    # endpoint-mismatch scenario.
    case $T_R in
        *:*) T_OTHER=2001:db8:ffff::$T_KEY ;;
        *)   T_OTHER=203.0.113.$T_KEY ;;
    esac
    case $T_R in *:*) T_HOST=128 T_FAM=-6 ;; *) T_HOST=32 T_FAM=-4 ;; esac
}

# ---- injections and their restores (left namespace, tunnel in T_*) -----------------

out_sa_del() { # [DST] — delete the tunnel's outbound SA (towards DST, default remote)
    # shellcheck disable=SC2086
    run ip -n left xfrm state delete src "$T_L" dst "${1:-$T_R}" proto esp spi "$T_SO" $T_DELMATCH
}
out_sa_add() { # DST MATCH... — the tunnel's outbound SA, reqid = key/if_id
    local dst=$1; shift
    # shellcheck disable=SC2086
    NS=left mk_sa "$T_L" "$dst" "$T_SO" "$T_KEY" "$@"
}
out_pol_del() {
    # shellcheck disable=SC2086
    run ip -n left xfrm policy delete src "$T_ANY" dst "$T_ANY" dir out $T_MATCH
}
out_pol_add() { # [TMPL_DST]
    # shellcheck disable=SC2086
    NS=left mk_pol out "$T_ANY" "$T_ANY" "$T_L" "${1:-$T_R}" "$T_KEY" $T_MATCH
}
normal_sa() { # shellcheck disable=SC2086
    out_sa_add "$T_R" $T_MATCH $T_SEL
}

inject() { # FAULT
    case $1 in
        healthy) ;;
        nosa) out_sa_del ;;
        nopolicy) out_pol_del ;;
        block)
            out_pol_del
            # shellcheck disable=SC2086
            run ip -n left xfrm policy add src "$T_ANY" dst "$T_ANY" dir out $T_MATCH action block ;;
        defaultblock) # no policy for the tunnel, and unmatched outbound traffic blocked
            # (≥ 5.16, namespace-wide). Without more, the block stops the inner packet at
            # its own policy look-up (mark 0, if_id 0), before the tunnel: ping gets EPERM
            # and no tunnel counter moves. So unmarked traffic gets a bypass policy, as
            # with any default block; the tunnel's look-up (its mark / if_id) then finds
            # no policy and meets the default.
            out_pol_del
            if [ ! -e /tmp/faults.defaultblock ]; then
                run ip -n left xfrm policy add src 0.0.0.0/0 dst 0.0.0.0/0 dir out \
                    mark 0 mask 0xffffffff action allow priority "$BYPASS_PRIORITY"
                run ip -n left xfrm policy add src ::/0 dst ::/0 dir out \
                    mark 0 mask 0xffffffff action allow priority "$BYPASS_PRIORITY"
                run ip -n left xfrm policy setdefault out block
                : >/tmp/faults.defaultblock
            fi ;;
        noroute) run ip -n left "$T_FAM" route add unreachable "$T_R/$T_HOST" ;;
        endpoint) # SA and policy towards another peer (IKE set up with the wrong peer)
            out_sa_del
            # shellcheck disable=SC2086
            out_sa_add "$T_OTHER" $T_MATCH $T_SEL
            out_pol_del
            out_pol_add "$T_OTHER" ;;
        ifid) # xfrm: the outbound SA carries another if_id
            out_sa_del
            # shellcheck disable=SC2086
            out_sa_add "$T_R" if_id $((T_KEY + 100)) $T_SEL ;;
        loop) # the route to the peer's outer address points into the tunnel
            if [ "$T_KIND" = vti6-in4 ]; then
                # IPv6 is off on this IPv4-inner tunnel (lib.sh): an IPv6 route through
                # it needs IPv6 on, without addresses (no link-local traffic).
                run ip -n left link set "$T" addrgenmode none
                run nsx left sysctl -qw "net.ipv6.conf.$T.disable_ipv6=0"
            fi
            run ip -n left "$T_FAM" route add "$T_R/$T_HOST" dev "$T" ;;
        toobig) # tunnel MTU above underlay MTU minus ESP overhead; DF ping of 1480 bytes
            nsx left cat "/sys/class/net/$T/mtu" > "/tmp/faults.mtu.$T"
            run ip -n left link set "$T" mtu 1500 ;;
        seq) # output sequence number at its last value (no ESN)
            out_sa_del
            # shellcheck disable=SC2086
            out_sa_add "$T_R" $T_MATCH $T_SEL replay-oseq 0xffffffff ;;
        hardlimit) # the outbound SA dies after 2 packets
            out_sa_del
            # shellcheck disable=SC2086
            out_sa_add "$T_R" $T_MATCH $T_SEL limit packet-hard 2 ;;
        qdisc) ;; # once for all tunnels: see scenario()
        selector) # vti6 carrying IPv4: the SA without its IPv4 selector
            out_sa_del
            # shellcheck disable=SC2086
            out_sa_add "$T_R" $T_MATCH ;;
        *) die "inject: unknown fault $1" ;;
    esac
}

restore() { # FAULT
    case $1 in
        healthy|qdisc) ;;
        nosa) normal_sa ;;
        nopolicy) out_pol_add ;;
        block) out_pol_del; out_pol_add ;;
        defaultblock)
            if [ -e /tmp/faults.defaultblock ]; then
                run ip -n left xfrm policy setdefault out accept
                # (Deleting by selector and "mark 0" finds nothing: by priority.)
                run ip -n left xfrm policy deleteall dir out priority "$BYPASS_PRIORITY"
                rm -f /tmp/faults.defaultblock
            fi
            out_pol_add ;;
        noroute) run ip -n left "$T_FAM" route del unreachable "$T_R/$T_HOST" ;;
        endpoint)
            out_sa_del "$T_OTHER"; normal_sa
            out_pol_del; out_pol_add ;;
        ifid|seq|selector) out_sa_del; normal_sa ;;
        hardlimit)
            # The kernel deleted the expired SA itself (if it did not, delete it).
            # shellcheck disable=SC2086
            ip -n left xfrm state delete src "$T_L" dst "$T_R" proto esp spi "$T_SO" \
                $T_DELMATCH 2>/dev/null
            normal_sa ;;
        loop)
            run ip -n left "$T_FAM" route del "$T_R/$T_HOST" dev "$T"
            if [ "$T_KIND" = vti6-in4 ]; then
                run nsx left sysctl -qw "net.ipv6.conf.$T.disable_ipv6=1"
            fi ;;
        toobig) run ip -n left link set "$T" mtu "$(cat "/tmp/faults.mtu.$T")" ;;
        *) die "restore: unknown fault $1" ;;
    esac
}

# ping_args FAULT — pings per fault (as lab-results.md: 3, 4 for the SA hard limit).
ping_count() { case $1 in hardlimit) echo 4 ;; *) echo 3 ;; esac; }

# fault_ping TUNNEL FAULT — to the tunnel's inner peer; a DF packet of 1480 bytes on
# the wire for "toobig". -W 1: replies come back within milliseconds when they come.
fault_ping() {
    local n
    n=$(ping_count "$2")
    if [ "$2" = toobig ]; then
        case $T_PEER in
            *:*) nsx left ping -n -c "$n" -i 0.2 -W 1 -M "do" -s 1432 "$T_PEER" ;;
            *)   nsx left ping -n -c "$n" -i 0.2 -W 1 -M "do" -s 1452 "$T_PEER" ;;
        esac
    else
        nsx left ping -n -c "$n" -i 0.2 -W 1 "$T_PEER"
    fi
}

# sibling_vti NAME LOCAL REMOTE KEY INNER_L INNER_R SPI_OUT SPI_IN — vti_pair for a
# tunnel sharing its mark with another one to the same peer: its policies select only
# its inner /30 (the mark alone cannot pick the tunnel), reqid KEY. IPv4 inner.
sibling_vti() {
    local name=$1 lo=$2 re=$3 key=$4 il=$5 ir=$6 so=$7 si=$8 kind=mk_vti sel='' net
    case $lo in *:*) kind=mk_vti6 sel='sel src 0.0.0.0/0 dst 0.0.0.0/0' ;; esac
    net=${il%.*}.$((${il##*.} & ~3))/30
    NS=left  $kind "$name" "$lo" "$re" "$key"
    NS=right $kind "$name" "$re" "$lo" "$key"
    # shellcheck disable=SC2086
    {
        NS=left  mk_sa "$lo" "$re" "$so" "$key" mark "$key" $sel
        NS=left  mk_sa "$re" "$lo" "$si" "$key" mark "$key" $sel
        NS=right mk_sa "$re" "$lo" "$si" "$key" mark "$key" $sel
        NS=right mk_sa "$lo" "$re" "$so" "$key" mark "$key" $sel
    }
    NS=left  mk_pol out 0.0.0.0/0 "$net" "$lo" "$re" "$key" mark "$key"
    NS=left  mk_pol in "$net" 0.0.0.0/0 "$re" "$lo" "$key" mark "$key"
    NS=right mk_pol out 0.0.0.0/0 "$net" "$re" "$lo" "$key" mark "$key"
    NS=right mk_pol in "$net" 0.0.0.0/0 "$lo" "$re" "$key" mark "$key"
    tunnel_finish "$name" "$il" "$ir"
}

# siblings_topology — the "siblings" tunnels (see the header), on extra underlay
# addresses.
siblings_topology() {
    local a
    for a in 9 11 13; do addr left ul "192.0.2.$a/24"; done
    for a in 10 14; do addr right ul "192.0.2.$a/24"; done
    addr left ul 2001:db8::9/64
    addr left ul 2001:db8::b/64
    addr right ul 2001:db8::a/64
    sibling_vti vti3 192.0.2.9 192.0.2.10 13 198.51.100.17 198.51.100.18 0x1013 0x2013
    sibling_vti vti4 192.0.2.11 192.0.2.10 13 198.51.100.21 198.51.100.22 0x1113 0x2113
    sibling_vti vti65 2001:db8::9 2001:db8::a 25 198.51.100.25 198.51.100.26 0x1025 0x2025
    sibling_vti vti66 2001:db8::b 2001:db8::a 25 198.51.100.29 198.51.100.30 0x1125 0x2125
    xfrm_pair xfrm3 33 192.0.2.13 192.0.2.14 198.51.100.33 198.51.100.34 0x1033 0x2033
    xfrm_pair xfrm4 34 192.0.2.13 192.0.2.14 198.51.100.37 198.51.100.38 0x1034 0x2034
}

# ---- reading ---------------------------------------------------------------------------

ifindex_of() { ip -n left -o link show dev "$1" | cut -d: -f1; }

mib_oids() { # TUNNEL...
    local t c idx
    for t in "$@"; do
        idx=$(cat "/tmp/faults.ifindex.$t")
        for c in $MIB_COLS; do printf '%s.1.3.1.%s.%s ' "$ROOT" "$c" "$idx"; done
    done
}

read_state() { # SCENARIO before|after TUNNEL... (the vtiIfEntry rows read)
    local name=$1 phase=$2
    shift 2
    section "faults.$name.$phase.links" ip -n left -s -s -j link show
    # shellcheck disable=SC2046
    NS=left section "faults.$name.$phase.mib" snmp snmpget $(mib_oids "$@")
    section "faults.$name.$phase.xfrm_stat" nsx left cat /proc/net/xfrm_stat
}

# scenario NAME TUNNEL:FAULT... — one scenario (see the header).
scenario() {
    local name=$1 tf t f pids tunnels=''
    shift
    section_begin "faults.$name.plan"
    for tf in "$@"; do
        t=${tf%%:*} f=${tf#*:}
        tun "$t"
        echo "$t $T_KIND $f $(ping_count "$f")" >&3
        tunnels="$tunnels $t"
    done
    section_end
    # shellcheck disable=SC2086
    read_state "$name" before $tunnels
    log "scenario $name: inject"
    for tf in "$@"; do tun "${tf%%:*}"; inject "${tf#*:}"; done
    [ "$name" = qdisc ] && run tc -n left qdisc add dev ul root pfifo limit 0
    pids=''
    for tf in "$@"; do
        t=${tf%%:*} f=${tf#*:}
        tun "$t"
        ( fault_ping "$t" "$f" >"/tmp/faults.ping.$t" 2>&1; echo $? >"/tmp/faults.ping.$t.rc" ) &
        pids="$pids $!"
    done
    # shellcheck disable=SC2086 # (not a bare `wait`: the agent runs in the background)
    wait $pids
    for tf in "$@"; do
        t=${tf%%:*}
        section "faults.$name.ping.$t" sh -c "cat /tmp/faults.ping.$t; exit \$(cat /tmp/faults.ping.$t.rc)"
    done
    # Two polls of the agent (interval 1 s) after the last packet.
    sleep 2.5
    # shellcheck disable=SC2086
    read_state "$name" after $tunnels
    log "scenario $name: restore"
    [ "$name" = qdisc ] && run tc -n left qdisc del dev ul root
    for tf in "$@"; do tun "${tf%%:*}"; restore "${tf#*:}"; done
    sleep 0.5
}

# every FAULT TUNNEL... — TUNNEL:FAULT for each tunnel.
every() { local f=$1 t; shift; for t in "$@"; do printf '%s:%s ' "$t" "$f"; done; }

faults_main() {
    local failed=0 t0 t
    t0=$(cut -d' ' -f1 /proc/uptime)
    lab_reset
    std_topology
    # The vti6-carrying-IPv4 tunnel (lab-results' "vti6-in4"): vti_pair gives its SAs
    # the IPv4 selector they need.
    vti_pair vti64 2001:db8::7 2001:db8::8 24 198.51.100.13 198.51.100.14 0x1024 0x2024
    # Other peers for the endpoint-mismatch scenario, on-link on the underlay.
    run ip -n left route add 203.0.113.0/24 dev ul
    run ip -n left -6 route add 2001:db8:ffff::/64 dev ul
    siblings_topology
    ALL_TUNNELS="vti1 vti2 vti61 vti62 vti64 xfrm1 xfrm2 vti3 vti4 vti65 vti66 xfrm3 xfrm4"
    # IPv6-inner tunnels keep soliciting routers (router_solicitations -1: forever, with
    # backoff) from their link-local address: such an RS sent during a fault is one more
    # error than the pings. Stop them; nothing else is sent unprompted.
    for t in vti61 vti62 xfrm2; do
        run nsx left sysctl -qw "net.ipv6.conf.$t.router_solicitations=0"
    done
    section_begin faults.ifindex
    for t in $ALL_TUNNELS; do
        ifindex_of "$t" >"/tmp/faults.ifindex.$t"
        echo "$t $(cat "/tmp/faults.ifindex.$t")" >&3
    done
    section_end

    section faults.snmpd start_snmpd left || failed=1
    bg_start agent left --nobody-net-admin vti-agentx run --interval 1
    NS=left section faults.agent_up await_vti_row "$(cat /tmp/faults.ifindex.vti1)" || failed=1
    sleep 1.5

    # shellcheck disable=SC2046,SC2086
    {
        scenario healthy $(every healthy $FAULT_TUNNELS)
        scenario nosa $(every nosa $FAULT_TUNNELS)
        scenario nopolicy $(every nopolicy $FAULT_TUNNELS)
        scenario block $(every block $FAULT_TUNNELS)
        scenario defaultblock $(every defaultblock $FAULT_TUNNELS)
        scenario noroute $(every noroute $FAULT_TUNNELS)
        scenario endpoint $(every endpoint $FAULT_TUNNELS)
        scenario ifid $(every ifid xfrm1 xfrm2)
        scenario loop $(every loop $FAULT_TUNNELS)
        scenario toobig $(every toobig $FAULT_TUNNELS)
        scenario seq $(every seq $FAULT_TUNNELS)
        scenario hardlimit $(every hardlimit $FAULT_TUNNELS)
        scenario qdisc $(every qdisc $FAULT_TUNNELS)
        scenario selector vti64:selector
        # Seven tunnels failing differently at once, in one namespace: each must get
        # its own cause (xfrm_stat, being per namespace, cannot tell them apart).
        scenario multi vti1:nosa vti2:block vti61:noroute vti62:endpoint xfrm1:ifid \
            xfrm2:nopolicy vti64:selector
        # Two tunnels of each kind to one peer, the second without its outbound SA:
        # it has no SA (the first one's is not its near miss); the first stays healthy.
        scenario siblings vti3:healthy vti4:nosa vti65:healthy vti66:nosa \
            xfrm3:healthy xfrm4:nosa
        scenario healthy2 $(every healthy $FAULT_TUNNELS)
    }

    section faults.agent.stop bg_stop agent
    section faults.agent.log cat /tmp/agent.log
    lab_reset
    section faults.elapsed echo "guest uptime $t0 -> $(cut -d' ' -f1 /proc/uptime)"
    return $failed
}

faults_main
