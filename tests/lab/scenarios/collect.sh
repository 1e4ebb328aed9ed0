#!/bin/sh
# Part "collect", the collector against iproute2: `collect_once` (examples/collect_once.rs,
# copied into the guest next to vti-agentx) does one NetlinkCollector poll and prints the
# Sample as JSON. Builds the standard topology, adds faults and odd SAs so that most
# fields are non-zero, then dumps iproute2's view right before and right after the
# collector's, as root and as nobody without capabilities.
# Sections collect.*; checked by tests/lab/checks/collect.rs.
# shellcheck source=../guest/lib.sh disable=SC1091
. /lab/lib.sh

std_topology

for t in $LAB_TUNNELS; do
    section "collect.ping.$t" ping_from left "$(peer_inner "$t")" 3
done

# Faults (left side), so error counters move:
# vti2: outbound SA gone -> tx_errors + carrier (XfrmOutNoStates).
run ip -n left xfrm state delete src 192.0.2.3 dst 192.0.2.4 proto esp spi 0x1012 mark 12
section collect.fault.vti2 ping_from left 198.51.100.6 3
# xfrm2: outbound SA gone -> tx_errors + tx_dropped + carrier.
run ip -n left xfrm state delete src 2001:db8::5 dst 2001:db8::6 proto esp spi 0x1032
section collect.fault.xfrm2 ping_from left 2001:db8:32::2 2
# vti1: too big (tunnel MTU 1500 > path, DF set) -> tx_errors only.
run ip -n left link set vti1 mtu 1500
section collect.fault.vti1 ping_from left 198.51.100.2 1 -M "do" -s 1452
# vti61: routing loop (route to the peer's outer address through the tunnel itself).
run ip -n left -6 route add 2001:db8::2/128 dev vti61
section collect.fault.vti61 ping_from left 2001:db8:21::2 2
run ip -n left -6 route del 2001:db8::2/128 dev vti61

# Odd SAs in left: ESN + AEAD + if_id + output-mark + limits + a replay counter.
run ip -n left xfrm state add src 192.0.2.7 dst 203.0.113.7 proto esp spi 0x7777 reqid 77 \
    mode tunnel flag esn replay-window 128 replay-oseq 0x10 replay-oseq-hi 0x2 \
    aead 'rfc4106(gcm(aes))' 0x0102030405060708090a0b0c0d0e0f1011121314 128 \
    if_id 0x77 output-mark 0x9 mask 0xff \
    limit packet-soft 900 limit packet-hard 1000 limit byte-hard 123456 \
    limit time-soft 3000 limit time-hard 3600 limit time-use-hard 600
# Inbound towards a local address: the direction comes from the address dump.
run ip -n left xfrm state add src 203.0.113.8 dst 192.0.2.7 proto esp spi 0x8888 reqid 88 \
    mode transport replay-window 32 mark 0x30 mask 0xf0 \
    enc 'cbc(aes)' 0x00112233445566778899aabbccddeeff auth 'hmac(sha1)' \
    0x0011223344556677889900112233445566778899
# A block policy and a masked-mark policy with two templates.
run ip -n left xfrm policy add src 10.9.0.0/16 dst 10.8.0.0/16 dir fwd action block priority 7
run ip -n left xfrm policy add src 10.1.0.0/24 dst 10.2.0.0/24 dir out priority 99 mark 0x100 mask 0xf00 \
    tmpl src 192.0.2.7 dst 203.0.113.7 proto esp reqid 77 mode tunnel \
    tmpl proto comp mode transport level use

# A larval ACQUIRE SA (SPI 0, no algorithms): a policy without SA, a key manager
# listening (ip xfrm monitor), traffic.
run ip -n left xfrm policy add src 192.0.2.7/32 dst 203.0.113.0/24 dir out \
    tmpl src 192.0.2.7 dst 203.0.113.99 proto esp reqid 99 mode tunnel
run ip -n left route add 203.0.113.0/24 dev ul
nsx left /usr/sbin/ip xfrm monitor acquire > /tmp/acquire.txt 2>&1 &
mon=$!
sleep 1
ping_from left 203.0.113.1 1 -I 192.0.2.7 >/dev/null 2>&1
sleep 1
kill $mon
section collect.acquire cat /tmp/acquire.txt

# The comparison: iproute2 before, the collector, iproute2 after (counters may move in
# between only by background traffic; the checker accepts values within before..after).
NS=left dump_state collect.before
section collect.root nsx left collect_once --polls 2
NS=left dump_state collect.after
section collect.nocap nsx left setpriv --reuid 65534 --regid 65534 --clear-groups \
    --inh-caps=-all collect_once --polls 3
section collect.nocap_id nsx left setpriv --reuid 65534 --regid 65534 --clear-groups \
    --inh-caps=-all /usr/sbin/ip xfrm state
exit 0
