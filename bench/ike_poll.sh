#!/bin/bash
# Cost of the IKE part of a poll (issue 12): CPU of one IkeSource::poll
# (list-conns + list-sas over VICI) against one `swanctl --list-sas` on the
# same charon holding N IKE SAs (default 1,000), rounds interleaved, medians.
#
#   bench/ike_poll.sh [N]          RESULTS=- to only print; ROUNDS=7
#
# Two charons in two network namespaces on one veth pair (192.0.2.1 <->
# 192.0.2.2); side a loads N connections (distinct identities a<i>/b<i>, one
# wildcard PSK, one CHILD_SA each with its own traffic selectors
# 198.51.100.0/24 <-> 203.0.113.0/24 on TCP port 10000+i) and initiates them
# all on load; side b accepts. CHILD_SAs are installed by the kernel-libipsec
# plugin (userspace ESP behind a TUN device; Debian's libcharon-extra-plugins)
# when present — the host kernel has no XFRM ("Protocol not supported") — so
# the SAs are complete; without the plugin only the IKE SAs come up and the
# script says so. The client CPU is that of examples/ike_poll_cost (release):
# the poll in-process via getrusage, swanctl as a whole child process via
# getrusage(CHILDREN); each charon's CPU from /proc/PID/stat. Needs root, iproute2,
# unshare, strongswan-charon, strongswan-swanctl. Kills its charons and
# deletes its namespaces on exit.
set -euo pipefail
N=${1:-1000}
ROUNDS=${ROUNDS:-7}
REPO=$(cd "$(dirname "$0")/.." && pwd)
RESULTS=${RESULTS:-$REPO/bench/RESULTS.md}
PLUGINS=/usr/lib/ipsec/plugins
log() { echo "[$(date +%T)] $*" >&2; }
die() { echo "error: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root"
for t in ip unshare swanctl /usr/lib/ipsec/charon; do command -v "$t" >/dev/null || die "$t not found"; done
[ "$N" -ge 1 ] && [ "$N" -le 50000 ] || die "N out of range"

DIR=$(mktemp -d /tmp/vti-ikebench.XXXXXX)
NS_A=ikebench-$$-a NS_B=ikebench-$$-b
CHARON_PIDS=()
cleanup() {
    local pid i
    for pid in "${CHARON_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${CHARON_PIDS[@]}"; do
        for i in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
    done
    ip netns del "$NS_A" 2>/dev/null || true
    ip netns del "$NS_B" 2>/dev/null || true
    mkdir -p "$REPO/target/bench/ike_poll" && cp "$DIR"/a/charon.log "$REPO/target/bench/ike_poll/a.log" 2>/dev/null && cp "$DIR"/b/charon.log "$REPO/target/bench/ike_poll/b.log" 2>/dev/null || true
    rm -rf "$DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -f "$PLUGINS/libstrongswan-kernel-libipsec.so" ] && [ -c /dev/net/tun ]; then
    BACKEND="kernel-libipsec" LOAD_KERNEL="kernel-libipsec kernel-netlink"
else
    BACKEND="kernel-netlink" LOAD_KERNEL="kernel-netlink"
    log "no kernel-libipsec plugin (libcharon-extra-plugins): CHILD_SAs will fail on a host without XFRM; only IKE SAs measured"
fi

write_conf() {
    local side=$1 d=$DIR/$1
    mkdir -p "$d"
    cat > "$d/strongswan.conf" <<CONF
charon {
    load_modular = no
    load = random nonce openssl pem pkcs1 x509 pubkey hmac sha1 sha2 aes gcm kdf $LOAD_KERNEL socket-default vici
    install_routes = no
    install_virtual_ip = no
    dos_protection = no
    cookie_threshold = 100000
    block_threshold = 100000
    init_limit_half_open = 0
    plugins {
        vici { socket = unix://$d/charon.vici }
        kernel-libipsec { allow_peer_ts = yes }
    }
    filelog {
        log { path = $d/charon.log
              default = ${CHARON_LOG:-0}
              flush_line = no }
    }
    syslog { daemon { default = -1 } }
}
CONF
}

start_charon() {
    local side=$1 ns=$2 pid
    STRONGSWAN_CONF=$DIR/$side/strongswan.conf setsid ip netns exec "$ns" \
        unshare -m --propagation private sh -c \
        'mount -t tmpfs tmpfs /run && exec /usr/lib/ipsec/charon' \
        > "$DIR/$side/stdout" 2>&1 < /dev/null &
    pid=$!
    CHARON_PIDS+=("$pid")
    for _ in $(seq 100); do [ -S "$DIR/$side/charon.vici" ] && break; sleep 0.1; done
    [ -S "$DIR/$side/charon.vici" ] || { cat "$DIR/$side/stdout" >&2; die "charon $side did not start"; }
    [ "$(cat /proc/$pid/comm)" = charon ] || die "pid $pid is $(cat /proc/$pid/comm), not charon"
}

write_conns() {
    local side=$1 f=$DIR/$1/swanctl.conf i me peer lid rid lts rts start
    if [ "$side" = a ]; then me=192.0.2.1 peer=192.0.2.2 start=start; else me=192.0.2.2 peer=192.0.2.1 start=none; fi
    {
        echo "connections {"
        for i in $(seq 1 "$N"); do
            if [ "$side" = a ]; then
                lid=a$i rid=b$i lts=198.51.100.0/24 rts=203.0.113.0/24
            else
                lid=b$i rid=a$i lts=203.0.113.0/24 rts=198.51.100.0/24
            fi
            cat <<C
  t$i {
    version = 2
    local_addrs = $me
    remote_addrs = $peer
    proposals = aes128-sha256-ecp256
    local { auth = psk
            id = $lid }
    remote { auth = psk
             id = $rid }
    children {
      t$i-child {
        local_ts = $lts[tcp/$((10000 + i))]
        remote_ts = $rts[tcp/$((10000 + i))]
        esp_proposals = aes128gcm16
        start_action = $start
      }
    }
  }
C
        done
        echo "}"
        echo 'secrets { ike-bench { secret = "ike-poll-bench-not-a-real-secret" } }'
    } > "$f"
}

log "bringing up $N IKE SAs ($BACKEND) in $NS_A / $NS_B"
write_conf a; write_conf b
ip netns add "$NS_A"; ip netns add "$NS_B"
ip link add "ikb$$a" netns "$NS_A" type veth peer name "ikb$$b" netns "$NS_B"
for side in a b; do
    ns=$NS_A addr=192.0.2.1
    [ $side = b ] && ns=$NS_B addr=192.0.2.2
    ip -n "$ns" link set lo up
    # kernel-libipsec routes each policy via its TUN device from an address
    # inside the local traffic selector.
    [ $side = a ] && ip -n "$ns" addr add 198.51.100.1/32 dev lo
    [ $side = b ] && ip -n "$ns" addr add 203.0.113.1/32 dev lo
    ip -n "$ns" link set "ikb$$$side" name eth0
    ip -n "$ns" addr add "$addr/24" dev eth0
    ip -n "$ns" link set eth0 up
    start_charon $side "$ns"
    write_conns $side
done
swanctl --load-all --noprompt --file "$DIR/b/swanctl.conf" --uri "unix://$DIR/b/charon.vici" >"$DIR/b/load.log" 2>&1 || { tail "$DIR/b/load.log" >&2; die "load b failed"; }
t0=$(date +%s)
swanctl --load-all --noprompt --file "$DIR/a/swanctl.conf" --uri "unix://$DIR/a/charon.vici" >"$DIR/a/load.log" 2>&1 || { tail "$DIR/a/load.log" >&2; die "load a failed"; }

count() { swanctl --list-sas --uri "unix://$DIR/a/charon.vici" 2>/dev/null | grep -c "$1" || true; }
ike=0 child=0
for _ in $(seq 1 300); do
    ike=$(count ESTABLISHED) child=$(count INSTALLED)
    if [ "$ike" -ge "$N" ]; then
        # CHILD_SAs: wait for them only while their count still grows.
        [ "$child" -ge "$N" ] || [ "$child" = "${last_child:-x}" ] && break
        last_child=$child
    fi
    sleep 2
done
up_s=$(($(date +%s) - t0))
log "after ${up_s}s: $ike IKE SAs established, $child CHILD SAs installed on a"
[ "$ike" -ge "$N" ] || die "only $ike of $N IKE SAs came up (see $DIR/*/charon.log)"
sleep 3   # let the last CHILD installs and events settle

log "building examples/ike_poll_cost (release)"
(cd "$REPO" && nice -n 10 cargo build --release --example ike_poll_cost -q) || die "cargo build failed"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
out=$("$REPO/target/release/examples/ike_poll_cost" --socket "unix:$DIR/a/charon.vici" \
    --rounds "$ROUNDS" --charon-pid "${CHARON_PIDS[0]}" --charon-pid "${CHARON_PIDS[1]}")
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
echo "$out"

report() {
    echo
    echo "### ike_poll.sh — $(date -u +%Y-%m-%dT%H:%MZ), nproc $(nproc), kernel $(uname -r), strongSwan $(dpkg-query -W -f="\${Version}" strongswan-charon 2>/dev/null || echo "?"), load avg $load_before"
    echo
    echo "N=$N connections, backend $BACKEND, $ike IKE SAs established / $child CHILD SAs installed (up in ${up_s} s), ROUNDS=$ROUNDS interleaved; load at end $load_after"
    echo
    echo '```'
    echo "$out"
    echo '```'
    echo
    echo "Client CPU = user+sys: the poll in-process (getrusage around IkeSource::poll, warm connection, release build); swanctl as a whole process (getrusage CHILDREN, start-up included, output to /dev/null). Charon CPU from /proc/PID/stat (10 ms ticks), first pid = side a (the one queried), second = side b. Ratio = poll ÷ swanctl."
}
if [ "$RESULTS" = - ]; then report; else report | tee -a "$RESULTS"; fi
