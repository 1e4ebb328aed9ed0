#!/bin/bash
# Two real strongSwan charons in two network namespaces joined by a veth pair
# (192.0.2.1 <-> 192.0.2.2), each with its own strongswan.conf, VICI socket
# and /run (charon's PID file path is compiled in, so each gets a private
# tmpfs on /run in its own mount namespace).
#
#   charon-pair.sh up DIR      start both; sockets DIR/{a,b}/charon.vici
#   charon-pair.sh down DIR    stop both, remove the namespaces
#   charon-pair.sh load DIR SIDE FILE   swanctl --load-all with FILE on SIDE
#   charon-pair.sh restart DIR SIDE     start SIDE's charon again (after a kill)
#
# Needs root, ip, unshare and Debian's strongswan-charon + strongswan-swanctl.
set -euo pipefail
cmd=${1:?up|down|load} dir=${2:?DIR}
ns() { echo "vici-$(basename "$dir")-$1"; }
addr() { case $1 in a) echo 192.0.2.1 ;; b) echo 192.0.2.2 ;; esac; }

write_conf() {
    local side=$1 d=$dir/$1
    mkdir -p "$d"
    cat > "$d/strongswan.conf" <<CONF
charon {
    load_modular = no
    load = random nonce openssl pem pkcs1 x509 pubkey hmac sha1 sha2 aes gcm kdf kernel-netlink socket-default vici updown
    install_routes = no
    retransmit_tries = 2
    retransmit_timeout = 1
    retransmit_base = 1.4
    plugins {
        vici { socket = unix://$d/charon.vici }
    }
    filelog {
        log { path = $d/charon.log
              default = 1
              ike = 2
              flush_line = yes }
    }
    syslog { daemon { default = -1 } }
}
CONF
}

start_charon() {
    local side=$1
    rm -f "$dir/$side/charon.vici"
    STRONGSWAN_CONF=$dir/$side/strongswan.conf setsid ip netns exec "$(ns $side)" \
        unshare -m --propagation private sh -c \
        'mount -t tmpfs tmpfs /run && exec /usr/lib/ipsec/charon' \
        > "$dir/$side/stdout" 2>&1 < /dev/null &
    echo $! > "$dir/$side/pid"
}

wait_socket() {
    local side=$1
    for _ in $(seq 100); do [ -S "$dir/$side/charon.vici" ] && return 0; sleep 0.1; done
    echo "charon $side did not start" >&2; cat "$dir/$side/stdout" >&2; return 1
}

case $cmd in
up)
    for side in a b; do write_conf $side; ip netns add "$(ns $side)"; done
    ip link add "vici${$}a" netns "$(ns a)" type veth peer name "vici${$}b" netns "$(ns b)"
    for side in a b; do
        n=$(ns $side)
        ip -n "$n" link set lo up
        ip -n "$n" link set "vici${$}$side" name eth0
        ip -n "$n" addr add "$(addr $side)/24" dev eth0
        ip -n "$n" link set eth0 up
        start_charon $side
    done
    wait_socket a && wait_socket b
    ;;
restart)
    side=${3:?a|b}
    start_charon $side
    wait_socket $side
    ;;
down)
    for side in a b; do
        [ -f "$dir/$side/pid" ] && kill "$(cat "$dir/$side/pid")" 2>/dev/null || true
    done
    for side in a b; do
        for _ in $(seq 50); do
            [ -f "$dir/$side/pid" ] && kill -0 "$(cat "$dir/$side/pid")" 2>/dev/null || break
            sleep 0.1
        done
    done
    for side in a b; do ip netns del "$(ns $side)" 2>/dev/null || true; done
    ;;
load)
    side=${3:?a|b} file=${4:?swanctl.conf}
    swanctl --load-all --noprompt --file "$file" --uri "unix://$dir/$side/charon.vici"
    ;;
*) echo "usage: $0 up|down|load|restart DIR ..." >&2; exit 2 ;;
esac
