#!/bin/sh
# The demo, inside the QEMU guest (see packaging/demo.sh): six real IPsec tunnels to a
# peer namespace, snmpd + snmptrapd + vti-agentx, three faults, and what an operator
# would look at. Results go back in sections demo.*.
# shellcheck source=../tests/lab/guest/lib.sh disable=SC1091
. /lab/lib.sh

ROOT=.1.3.6.1.4.1.8072.9999.9999.2741

std_topology
for t in $LAB_TUNNELS; do ping_from left "$(peer_inner "$t")" 3 >/dev/null; done

# snmptrapd logs every notification snmpd forwards, one line each (numeric OIDs: no
# MIB files in the guest; packaging/demo.sh decodes them on the host).
cat >/tmp/snmptrapd.conf <<'CONF'
authCommunity log public
format2 TRAP\t%v\n
CONF
bg_start snmptrapd left /usr/sbin/snmptrapd -f -C -c /tmp/snmptrapd.conf -m '' -On \
    -Lf /tmp/traps.log udp:127.0.0.1:1162
SNMPD_EXTRA_CONF="trap2sink 127.0.0.1:1162 public" start_snmpd left || die "snmpd"

# Quick thresholds so the demo does not wait a minute per alarm.
cat >/tmp/vti-agentx.toml <<CONF
poll_interval_secs = 1
[alarms]
hold_down_secs = 0
[alarms.categories.carrier]
enabled = true
interval_secs = 3
rising = 1
falling = 0
[alarms.categories.loop]
enabled = true
interval_secs = 3
rising = 1
falling = 0
CONF
bg_start agent left vti-agentx run --master unix:/var/agentx/master --config /tmp/vti-agentx.toml
sleep 3

# Fault 1: the IKE daemon lost the outbound SA of xfrm1 (XFRM interface, VyOS style).
ip -n left xfrm state delete src 192.0.2.5 dst 192.0.2.6 proto esp spi 0x1031
# Fault 2: a route to vti1's peer through vti1 itself (recursive routing).
ip -n left route add 192.0.2.2/32 dev vti1
# Fault 3: vti61's MTU raised above what the underlay can carry after ESP.
ip -n left link set vti61 mtu 1500

# Traffic while `show` takes its two readings (-W 1: failing pings give up fast).
( for i in 1 2 3 4 5 6; do
    ping_from left 198.51.100.10 1 -W 1 >/dev/null
    ping_from left 198.51.100.2 1 -W 1 >/dev/null
    ping_from left 2001:db8:21::2 1 -W 1 -s 1452 -M do >/dev/null 2>&1
    sleep 0.3
  done ) &
traffic=$!
nsx left vti-agentx show --wait 2 >/tmp/show.txt 2>&1
wait "$traffic"
sleep 2
section demo.show cat /tmp/show.txt
NS=left section demo.walk snmp snmpwalk "$ROOT"

# Repair fault 1 (the SA comes back): vtiTxErrorFalling and vtiSaUp follow.
NS=left mk_sa 192.0.2.5 192.0.2.6 0x1031 31 if_id 31
ip -n left route del 192.0.2.2/32 dev vti1
sleep 5
section demo.traps cat /tmp/traps.log
section demo.agent_log cat /tmp/agent.log
bg_stop agent
exit 0
