#!/bin/sh
# Smoke scenario: the standard topology (six tunnels: 2 vti, 2 vti6, 2 xfrm, mirrored in a
# peer namespace with real ESP SAs), three pings through each tunnel, then the dumps the
# host-side test asserts on. Later steps (faults, agent + snmpd) append after "dumps".
# shellcheck source=../guest/lib.sh disable=SC1091
. /lab/lib.sh

section agent.version sh -c 'vti-agentx --version || true'

std_topology

# Healthy traffic: every tunnel must carry it (sections ping.<tunnel>, rc 0).
failed=0
for t in $LAB_TUNNELS; do
    section "ping.$t" ping_from left "$(peer_inner "$t")" 3 || failed=1
done

NS=left dump_state left
NS=right dump_state right
exit $failed
