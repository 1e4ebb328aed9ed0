#!/bin/sh
# Part "tunnels", the smoke test: the standard topology (six tunnels: 2 vti, 2 vti6,
# 2 xfrm, mirrored in a peer namespace with real ESP SAs), three pings through each
# tunnel, the dumps the host-side check asserts on, then snmpd (AgentX master) answering
# in the left namespace. Sections tunnels.*; checked by tests/lab/checks/tunnels.rs.
# shellcheck source=../guest/lib.sh disable=SC1091
. /lab/lib.sh

section tunnels.agent_version sh -c 'vti-agentx --version || true'
section tunnels.tools sh -c '/usr/sbin/snmpd -v | grep version; /usr/bin/snmpwalk -V;
    /usr/bin/setpriv --reuid=65534 --regid=65534 --clear-groups /usr/bin/id -u'

std_topology

# Healthy traffic: every tunnel must carry it (sections tunnels.ping.<tunnel>, rc 0).
failed=0
for t in $LAB_TUNNELS; do
    section "tunnels.ping.$t" ping_from left "$(peer_inner "$t")" 3 || failed=1
done

NS=left dump_state tunnels.left
NS=right dump_state tunnels.right
# What the agent will run as: nobody keeping CAP_NET_ADMIN can dump the SAs.
section tunnels.nobody_xfrm nobody left --net-admin /usr/sbin/ip xfrm state count || failed=1

# net-snmp in the agent's namespace: IF-MIB sees the tunnels.
if section tunnels.snmpd_start start_snmpd left; then
    NS=left section tunnels.snmp_ifName snmp snmpbulkwalk .1.3.6.1.2.1.31.1.1.1.1 || failed=1
else
    failed=1
fi
exit $failed
