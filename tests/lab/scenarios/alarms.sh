#!/bin/sh
# alarms part (issue 5, "Lab test"): a real snmptrapd receives the agent's notifications
# through snmpd (trap2sink). One XFRM tunnel (xfrm1 of the standard topology) carries a
# steady ping; its outbound SA is deleted ("no SA", as an IKE daemon gone away would
# leave it), then restored. Expected, and checked by tests/lab/checks/alarms.rs: exactly
# one vtiTxErrorRising (category carrier, diagnosis naming the missing SA) and one
# vtiSaDown while the SA is gone; then one vtiTxErrorFalling and one vtiSaUp.
#
# Agent: `vti-agentx run --interval 1 --config` with carrier alarms over 2 s, rising 1,
# falling 0, no hold-down. snmptrapd logs numerically (no MIBs, -On), one line per
# notification: "TRAP <varbinds separated by tabs>".
#
# Sections: alarms.snmptrapd, alarms.snmpd, alarms.agent_up, alarms.ping.healthy,
# alarms.inject, alarms.traps.down (the log before the restore), alarms.restore,
# alarms.traps (the whole log), alarms.ping (the steady ping's output), alarms.mib
# (vtiAlarmTable row of xfrm1/carrier at the end), alarms.agent.log.
# Issue 13: alarms.peer.healthy / alarms.peer.down (xfrm1's vtiIfPeerAddrType,
# vtiIfPeerAddr, vtiIfPeerAddrSource with and without the outbound SA) beside what the
# kernel says: alarms.xfrm.state (each SA's "src .. dst .." and "proto esp spi .." lines,
# no keys) and alarms.xfrm.policy (the outbound policies, "tmpl src .. dst .."); and
# alarms.events (a walk of vtiEventTable and vtiEventLastIndex at the end).
# shellcheck source=../guest/lib.sh disable=SC1091
. /lab/lib.sh


ROOT=.1.3.6.1.4.1.8072.9999.9999.2741
TRAP_PORT=1162

# The "src .. dst .." and "proto esp spi .." lines of left's SAs (no keys).
sa_lines() {
    ip -n left xfrm state list | grep -E '^src|proto esp spi'
}

alarms_main() {
    local failed=0 t0 idx
    t0=$(cut -d' ' -f1 /proc/uptime)
    lab_reset
    # Only the tunnel under test: cheaper than the whole standard topology under TCG.
    mk_ns left
    mk_ns right
    mk_veth left ul right ul
    addr left ul 192.0.2.5/24
    addr right ul 192.0.2.6/24
    xfrm_pair xfrm1 31 192.0.2.5 192.0.2.6 198.51.100.9 198.51.100.10 0x1031 0x2031 ul ul
    idx=$(ip -n left -o link show dev xfrm1 | cut -d: -f1)
    section alarms.ifindex echo "xfrm1 $idx"

    section alarms.snmptrapd start_snmptrapd left $TRAP_PORT /tmp/alarms.traps.log || failed=1
    SNMPD_EXTRA_CONF="trap2sink 127.0.0.1:$TRAP_PORT public" \
        section alarms.snmpd start_snmpd left || failed=1
    cat >/tmp/alarms.config.toml <<'TOML'
poll_interval_secs = 1
[alarms]
hold_down_secs = 0
[alarms.categories.carrier]
enabled = true
interval_secs = 2
rising = 1
falling = 0
TOML
    section alarms.config cat /tmp/alarms.config.toml
    bg_start agent left --nobody-net-admin vti-agentx run --config /tmp/alarms.config.toml
    NS=left section alarms.agent_up await_vti_row "$idx" || failed=1
    section alarms.ping.healthy ping_from left 198.51.100.10 3 || failed=1
    section alarms.xfrm.state sa_lines
    NS=left section alarms.peer.healthy snmp snmpget "$ROOT.1.3.1.42.$idx" \
        "$ROOT.1.3.1.43.$idx" "$ROOT.1.3.1.44.$idx"

    # A steady ping through the tunnel for the whole test: while the SA is gone every
    # packet is a carrier error, so the 2 s delta stays >= 1 until the restore.
    nsx left ping -n -i 0.5 -c 60 -W 1 198.51.100.10 >/tmp/alarms.pings 2>&1 &
    ping_pid=$!
    sleep 2
    section alarms.inject ip -n left xfrm state delete src 192.0.2.5 dst 192.0.2.6 proto esp \
        spi 0x1031 || failed=1
    sleep 6
    section alarms.traps.down cat /tmp/alarms.traps.log
    section alarms.xfrm.policy ip -n left xfrm policy list dir out
    NS=left section alarms.peer.down snmp snmpget "$ROOT.1.3.1.42.$idx" \
        "$ROOT.1.3.1.43.$idx" "$ROOT.1.3.1.44.$idx"
    section_begin alarms.restore
    NS=left mk_sa 192.0.2.5 192.0.2.6 0x1031 31 if_id 31 >&3 2>&1
    section_end $?
    sleep 6
    kill "$ping_pid" 2>/dev/null
    wait "$ping_pid"
    section alarms.traps cat /tmp/alarms.traps.log
    section alarms.ping cat /tmp/alarms.pings
    # vtiAlarmEntry of (xfrm1, carrier): interval, rising, falling, state, last delta,
    # events sent, suppressed.
    NS=left section alarms.mib snmp snmpget "$ROOT.1.5.1.2.$idx.1" "$ROOT.1.5.1.3.$idx.1" \
        "$ROOT.1.5.1.4.$idx.1" "$ROOT.1.5.1.5.$idx.1" "$ROOT.1.5.1.6.$idx.1" \
        "$ROOT.1.5.1.8.$idx.1" "$ROOT.1.5.1.9.$idx.1"
    NS=left section alarms.events snmp snmpwalk "$ROOT.1.6"
    NS=left section alarms.events.last snmp snmpget "$ROOT.1.1.12.0" "$ROOT.1.1.13.0"
    section alarms.agent.stop bg_stop agent
    section alarms.agent.log cat /tmp/agent.log
    bg_stop snmptrapd >/dev/null
    lab_reset
    section alarms.elapsed echo "guest uptime $t0 -> $(cut -d' ' -f1 /proc/uptime)"
    return $failed
}

alarms_main
