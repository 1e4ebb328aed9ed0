#!/bin/sh
# ike part (issue 12, "Prove"): Debian's strongSwan (charon + swanctl 5.9) in both
# namespaces, IKEv2 PSK, two route-based tunnels, and the IKE faults the agent has to
# explain, each left in the results as `swanctl --list-sas` / `--list-conns` of the left
# side, the left charon's log lines of that step, the links, and (when the guest has
# /usr/local/bin/ike_dump) the agent's VICI view as JSON. tests/lab/checks/ike.rs checks
# every step's outcome.
#
# Topology: namespaces left (where the agent runs) and right (the peer), veth `ul`. Each
# IKE SA has its own pair of outer addresses, as /32s with a host route to the peer, so
# one peer's underlay route can be removed alone:
#
#   tunnel    kind              outer (left <-> right)  match       inner (left <-> right)     connection / child
#   classic1  vti               192.0.2.1 <-> .2        mark 11     198.51.100.1/30 <-> .2     peer-mark / peer-mark-tunnel
#   vti1      xfrm (VyOS 1.4+)  192.0.2.3 <-> .4        if_id 2     203.0.113.1/30 <-> .2      peer-vyos / peer-vyos-vti
#
# vti1 is VyOS's layout: interface vtiN is `type xfrm if_id N+1` (no underlying dev) and
# the child has if_id_in = if_id_out = N+1. On the left both children run a VyOS-like
# updown hook (swanctl.conf `updown = /tmp/ike/vti-up-down IFNAME`): the interface is set
# up when its CHILD_SA comes up and down when it goes down, as VyOS's
# /etc/ipsec.d/vti-up-down does (so on the left the tunnels start DOWN). Each hook call is
# logged to /tmp/ike/updown.log.
#
# Two charons in one guest: each runs in its namespace (`ip netns exec`) and its own
# mount namespace (busybox `unshare -m`, private propagation), where /run/<side> is
# bind-mounted over /run. charon's compiled-in PID file /var/run/charon.pid (/var/run ->
# /run) and its VICI socket (unix:///run/charon.vici in strongswan.conf) therefore land in
# /run/left and /run/right as seen from the initial namespace: the left socket is
# /run/left/charon.vici, where the agent (and swanctl -u) reach it. Each side has its own
# strongswan.conf (STRONGSWAN_CONF), swanctl.conf (--file) and SWANCTL_DIR under
# /tmp/ike/<side>/, and logs to /tmp/ike/<side>/charon.log (filelog, level 1 and cfg 2,
# appended across restarts). Retransmits are shortened (2 tries, 1 s, base 1.5: a dead peer is
# given up after ~5 s) and DPD runs every 2 s, so the part takes seconds per fault.
#
# Steps (sections ike.<step>.*), in this order, each starting from the state the one
# before left:
#   baseline     both children initiated from the left; pings through both tunnels
#   rekey        `swanctl --rekey --child` of both children: new SPIs, links stay up
#   peer_delete  the right terminates peer-vyos-vti: the left logs the DELETE, the hook
#                sets vti1 down; re-initiated: vti1 up again
#   dpd          the right's charon is killed (SIGKILL): the left's DPD gives up and
#                clears both IKE SAs, the hook sets both links down; the right restarts
#                (its kernel SAs/policies flushed, as after a reboot), both re-initiated
#   restart      the left's charon stopped (SIGTERM) and started again, config reloaded,
#                both children initiated again: new SPIs, links up, pings
#   psk          peer-vyos terminated; the right's PSK for it changed: the left's
#                initiation fails with AUTHENTICATION_FAILED; PSK restored
#   proposal     the right's IKE proposal for peer-vyos changed to one the left does not
#                offer: NO_PROPOSAL_CHOSEN; proposal restored
#   unreachable  the left's underlay route to 192.0.2.4 removed before initiating:
#                retransmits, then "giving up"; route restored
# In psk, proposal and unreachable, peer-mark stays up (checked: no collateral damage).
#
# Per step: ike.<step>.list_sas, .list_conns, .log (left charon's log lines since the step
# began), .links (`ip -d -j link show` of the left), .updown (hook calls since the step
# began), .ike_dump_sync, .ike_dump and .ike_dump_log (only if /usr/local/bin/ike_dump
# exists: the wait for its event subscription, its JSON after watching the whole step,
# its stderr), plus the step's own
# sections (.initiate.*, .ping.*, .rekey.*, .terminate, .kill, ...). Setup sections:
# ike.versions, ike.secrets (the lab-only PSKs: the check asserts no other section, so
# no log excerpt, swanctl output or ike_dump JSON, contains them), ike.start.<side>,
# ike.load.<side>; at the end ike.right_log (the right charon's whole log), ike.psk_leak
# (files among both charons' logs and the hook log that contain a PSK: must be none).
#
# The agent (issue 12, "Build"): `vti-agentx run` as nobody with CAP_NET_ADMIN only (the
# left charon runs with `charon.group = nogroup`, so its socket is root:nogroup 0770:
# ike.agent.socket) in the left namespace under snmpd
# (trap2sink to snmptrapd on 127.0.0.1:1162), polling every second, reading the left
# charon's VICI socket (/run/left/charon.vici) and both tunnels; no hold-down, so every
# change is a notification. It runs through every step, the left charon's restart
# included. Per step, after the step's watch time: ike.<step>.agent_polls (two fresh
# polls), .walk_global (vtiIkeAvailable, vtiIkeUnavailableReason, vtiIkeCount),
# .walk_ike (vtiIkeTable), .walk_if (vtiIfCause, vtiIfDiagnosis and the vtiIfAdminStatus
# and vtiIfIke* columns of classic1 and vti1), .traps (snmptrapd's lines since the step
# began) and .show (`vti-agentx show --json`). While the left charon is stopped:
# ike.restart.agent_unavailable (vtiIkeAvailable false and why). At the end:
# ike.agent_log. Sections ike.agent.* set it up (ike.agent.ifindex: "classic1 N vti1 M").
# shellcheck source=../guest/lib.sh disable=SC1091
. /lab/lib.sh

ROOT=.1.3.6.1.4.1.8072.9999.9999.2741
TRAP_PORT=1162
TRAPS=/tmp/ike.traps.log
AGENT_CONF=/tmp/ike/agent.toml

IKE=/tmp/ike
# The agent's VICI client (examples/ike_dump.rs), when the test put it in the guest.
IKE_DUMP=/usr/local/bin/ike_dump
PSK_MARK=lab-psk-mark-0f3a
PSK_VYOS=lab-psk-vyos-7c21
PSK_WRONG=lab-psk-wrong-55e9
# The left's IKE proposal; the proposal step gives the right one it does not share.
PROPOSAL=aes128-sha256-x25519
PROPOSAL_OTHER=aes256-sha384-ecp384

# sw SIDE ARGS... — swanctl against SIDE's charon (its VICI socket under /run/SIDE).
sw() {
    local s=$1
    shift
    STRONGSWAN_CONF=$IKE/$s/strongswan.conf SWANCTL_DIR=$IKE/$s \
        /usr/sbin/swanctl "$@" --uri "unix:///run/$s/charon.vici"
}

# write_strongswan_conf SIDE — the left charon runs with group nogroup (packaging/README.md,
# "IKE view"): its VICI socket is root:nogroup 0770, which the agent, run as nobody
# (group nogroup) with CAP_NET_ADMIN only, can use.
write_strongswan_conf() {
    local group=''
    [ "$1" = left ] && group='group = nogroup'
    cat >"$IKE/$1/strongswan.conf" <<CONF
charon {
    $group
    load = random nonce openssl pem pkcs1 pkcs8 x509 pubkey kdf hmac kernel-netlink socket-default vici updown
    install_routes = no
    install_virtual_ip = no
    retransmit_tries = 2
    retransmit_timeout = 1.0
    retransmit_base = 1.5
    plugins {
        vici {
            socket = unix:///run/charon.vici
        }
    }
    filelog {
        main {
            path = $IKE/$1/charon.log
            time_format = %T
            ike_name = yes
            default = 1
            # Level 2 for cfg logs VICI clients connecting and registering for events.
            cfg = 2
            flush_line = yes
            append = yes
        }
    }
}
swanctl {
    load = random openssl pem pkcs1 pkcs8 x509 pubkey
}
CONF
}

# write_swanctl_conf SIDE VYOS_PSK VYOS_PROPOSAL — both connections, seen from SIDE.
# Only the left runs the updown hook (the right's links stay up).
write_swanctl_conf() {
    local s=$1 psk_vyos=$2 prop_vyos=$3 a1 a2 b1 b2 hook_mark='' hook_vyos=''
    if [ "$s" = left ]; then
        a1=192.0.2.1 a2=192.0.2.2 b1=192.0.2.3 b2=192.0.2.4
        hook_mark="updown = $IKE/vti-up-down classic1"
        hook_vyos="updown = $IKE/vti-up-down vti1"
    else
        a1=192.0.2.2 a2=192.0.2.1 b1=192.0.2.4 b2=192.0.2.3
    fi
    cat >"$IKE/$s/swanctl.conf" <<CONF
connections {
    peer-mark {
        version = 2
        local_addrs = $a1
        remote_addrs = $a2
        proposals = $PROPOSAL
        dpd_delay = 2s
        local {
            auth = psk
            id = $a1
        }
        remote {
            auth = psk
            id = $a2
        }
        children {
            peer-mark-tunnel {
                local_ts = 0.0.0.0/0
                remote_ts = 0.0.0.0/0
                mark_in = 11
                mark_out = 11
                esp_proposals = aes128-sha256
                dpd_action = clear
                $hook_mark
            }
        }
    }
    peer-vyos {
        version = 2
        local_addrs = $b1
        remote_addrs = $b2
        proposals = $prop_vyos
        dpd_delay = 2s
        local {
            auth = psk
            id = $b1
        }
        remote {
            auth = psk
            id = $b2
        }
        children {
            peer-vyos-vti {
                local_ts = 0.0.0.0/0
                remote_ts = 0.0.0.0/0
                if_id_in = 2
                if_id_out = 2
                esp_proposals = aes128-sha256
                dpd_action = clear
                $hook_vyos
            }
        }
    }
}
secrets {
    ike-mark {
        id-1 = $a1
        id-2 = $a2
        secret = "$PSK_MARK"
    }
    ike-vyos {
        id-1 = $b1
        id-2 = $b2
        secret = "$psk_vyos"
    }
}
CONF
}

# The VyOS-like updown hook: called by charon as `vti-up-down IFNAME` with PLUTO_VERB
# in the environment (charon gives it no PATH: full paths).
write_hook() {
    cat >"$IKE/vti-up-down" <<'HOOK'
#!/bin/sh
# Logged before acting, so once the link has changed its call is in the log.
read -r up _ </proc/uptime
echo "$up $PLUTO_VERB $PLUTO_CONNECTION $1" >>/tmp/ike/updown.log
case $PLUTO_VERB in
    up-client|up-client-v6|up-host|up-host-v6) state=up ;;
    down-client|down-client-v6|down-host|down-host-v6) state=down ;;
    *) exit 0 ;;
esac
/usr/sbin/ip link set "$1" "$state" || echo "$up FAILED ip link set $1 $state" >>/tmp/ike/updown.log
HOOK
    chmod 755 "$IKE/vti-up-down"
}

# start_charon SIDE — charon in namespace SIDE with /run/SIDE as its /run (background
# job charon-SIDE); waits (<= 20 s) until its VICI socket answers.
start_charon() {
    local s=$1 i=0
    mkdir -p "/run/$s"
    bg_start "charon-$s" "$s" /usr/bin/env "STRONGSWAN_CONF=$IKE/$s/strongswan.conf" \
        /usr/bin/unshare -m --propagation private \
        /bin/sh -c "mount --bind /run/$s /run && exec /usr/lib/ipsec/charon"
    while [ $i -lt 80 ]; do
        if [ -S "/run/$s/charon.vici" ] && sw "$s" --stats >/dev/null 2>&1; then
            echo "charon ($s) pid $(cat "/run/$s/charon.pid") answering on /run/$s/charon.vici"
            return 0
        fi
        sleep 0.25
        i=$((i + 1))
    done
    echo "charon ($s) did not answer within 20 s"
    cat "/tmp/charon-$s.log" "$IKE/$s/charon.log"
    return 1
}

# load SIDE — (re)load SIDE's swanctl.conf.
load() { sw "$1" --load-all --file "$IKE/$1/swanctl.conf"; }

# wait_until SECS CMD... — poll CMD every 0.25 s until it succeeds; prints the wait.
wait_until() {
    local limit=$(($1 * 4)) i=0
    shift
    while [ $i -lt $limit ]; do
        if "$@" >/dev/null 2>&1; then
            echo "after $((i / 4)).$((i % 4 * 25)) s: $*"
            return 0
        fi
        sleep 0.25
        i=$((i + 1))
    done
    echo "timed out after $((limit / 4)) s: $*"
    return 1
}

# child_spi_in CHILD — the inbound SPI of the left's installed CHILD_SA CHILD (from
# swanctl --list-sas); empty if there is none.
child_spi_in() {
    sw left --list-sas 2>/dev/null | awk -v c="$1" '
        $1 == c":" && /INSTALLED/ { want = 1; next }
        want && $1 == "in" { sub(",", "", $2); print $2; exit }'
}
child_gone() { [ -z "$(child_spi_in "$1")" ]; }
# no_ike NAME — the left has no IKE SA of connection NAME.
no_ike() { ! sw left --list-sas --ike "$1" 2>/dev/null | grep -q "^$1: #"; }
# link_is up|down NAME — admin state of the left's interface NAME.
link_is() {
    case $1 in
        up) ip -n left -o link show dev "$2" | grep -q '[<,]UP[,>]' ;;
        down) ! ip -n left -o link show dev "$2" | grep -q '[<,]UP[,>]' ;;
    esac
}
rekeyed() { [ -n "$(child_spi_in "$1")" ] && [ "$(child_spi_in "$1")" != "$2" ]; }
# only_one CHILD — exactly one CHILD_SA of that name (the rekeyed one has gone).
only_one() { [ "$(sw left --list-sas | grep -c "^  $1: ")" = 1 ]; }

# step NAME WATCH_SECS — a new step: its log and hook excerpts start here, and (if the
# guest has ike_dump) the agent's VICI client starts watching the left charon for
# WATCH_SECS, so what happens during the step reaches its event stream; evidence waits
# for it and keeps its JSON.
step() {
    STEP=$1
    LOG_FROM=$(($(wc -l <"$IKE/left/charon.log") + 1))
    TRAP_FROM=$(($(wc -l <"$TRAPS" 2>/dev/null || echo 0) + 1))
    HOOK_FROM=$(($(wc -l <"$IKE/updown.log") + 1))
    log "--- ike step $STEP"
    DUMP_PID=''
    if [ -x "$IKE_DUMP" ]; then
        "$IKE_DUMP" --socket unix:/run/left/charon.vici --watch "$2" \
            >"$IKE/ike_dump.$STEP.json" 2>"$IKE/ike_dump.$STEP.log" &
        DUMP_PID=$!
        # Its event subscription is up once charon logs the last registration (cfg
        # level 2: "vici client N registered for: log"); only then does the step go on.
        section "ike.$STEP.ike_dump_sync" wait_until 30 registered_since "$LOG_FROM"
    fi
}
# registered_twice LINE — two VICI clients (ike_dump's and the agent's) registered for
# the log event in the left charon's log from LINE on.
registered_twice() {
    [ "$(sed -n "$1,\$p" "$IKE/left/charon.log" | grep -c 'registered for: log')" -ge 2 ]
}
# registered_since LINE — a VICI client registered for the log event in the left
# charon's log from LINE on.
registered_since() {
    sed -n "$1,\$p" "$IKE/left/charon.log" | grep -q 'registered for: log'
}

# lastpoll — vtiLastPollTime.0 as served.
lastpoll() { NS=left snmp snmpget "$ROOT.1.1.2.0" 2>&1; }
# agent_polls N — until the agent swapped in N new snapshots (<= 30 s).
agent_polls() {
    local n=$1 last cur i=0 seen=0
    last=$(lastpoll)
    while [ $seen -lt "$n" ] && [ $i -lt 100 ]; do
        sleep 0.3
        cur=$(lastpoll)
        if [ "$cur" != "$last" ]; then seen=$((seen + 1)); last=$cur; fi
        i=$((i + 1))
    done
    echo "saw $seen new polls"
    [ $seen -ge "$n" ]
}
# ike_available VALUE — vtiIkeAvailable.0 is INTEGER VALUE (1 true, 2 false).
ike_available() { NS=left snmp snmpget "$ROOT.1.1.9.0" | grep -q "INTEGER: $1\$"; }

start_agent() {
    local i
    IDX_CLASSIC=$(ip -n left -o link show dev classic1 | cut -d: -f1)
    IDX_VTI=$(ip -n left -o link show dev vti1 | cut -d: -f1)
    section ike.agent.ifindex echo "classic1 $IDX_CLASSIC vti1 $IDX_VTI"
    cat >"$AGENT_CONF" <<TOML
poll_interval_secs = 1
[alarms]
hold_down_secs = 0
[ike]
socket = "unix:/run/left/charon.vici"
# TCG: a one-shot show on a busy guest needs more than the default 2 s.
timeout_ms = 5000
# Where the agent (nobody) keeps its last failures for show.
state_file = "$IKE/agent-run/ike-failures.json"
TOML
    mkdir -p "$IKE/agent-run" && chmod 1777 "$IKE/agent-run"
    section ike.agent.config cat "$AGENT_CONF"
    section ike.agent.snmptrapd start_snmptrapd left $TRAP_PORT $TRAPS || return 1
    SNMPD_EXTRA_CONF="trap2sink 127.0.0.1:$TRAP_PORT public" \
        section ike.agent.snmpd start_snmpd left || return 1
    # Least privilege, as packaged: nobody with CAP_NET_ADMIN; the socket's group
    # (charon.group = nogroup) lets it in.
    section ike.agent.socket ls -l /run/left/charon.vici
    bg_start agent left --nobody-net-admin vti-agentx run --config "$AGENT_CONF"
    NS=left section ike.agent.up await_vti_row "$IDX_VTI" || return 1
    section ike.agent.ike_available wait_until 20 ike_available 1
    # Its event connection registered with charon (cfg level 2 logs it).
    section ike.agent.registered wait_until 20 registered_since 1
    AGENT=1
}

# agent_evidence — the agent's view of the current step (SNMP walk, traps, show).
agent_evidence() {
    local c cols='' oids=''
    [ -n "${AGENT:-}" ] || return 0
    section "ike.$STEP.agent_polls" agent_polls 2
    NS=left section "ike.$STEP.walk_global" snmp snmpget "$ROOT.1.1.9.0" "$ROOT.1.1.10.0" \
        "$ROOT.1.1.11.0"
    NS=left section "ike.$STEP.walk_ike" snmp snmpbulkwalk "$ROOT.1.7"
    for c in 32 33 45 46 47 48 49 50 51 52 53; do
        cols="$cols $ROOT.1.3.1.$c.$IDX_CLASSIC $ROOT.1.3.1.$c.$IDX_VTI"
    done
    # shellcheck disable=SC2086
    NS=left section "ike.$STEP.walk_if" snmp snmpget $cols
    section "ike.$STEP.traps" sed -n "$TRAP_FROM,\$p" "$TRAPS"
    section "ike.$STEP.show" nobody left --net-admin vti-agentx show --json --wait 0 \
        --config "$AGENT_CONF"
}

# evidence — the standard sections of the current step.
evidence() {
    section "ike.$STEP.list_sas" sw left --list-sas
    section "ike.$STEP.list_conns" sw left --list-conns
    section "ike.$STEP.log" sed -n "$LOG_FROM,\$p" "$IKE/left/charon.log"
    section "ike.$STEP.updown" sed -n "$HOOK_FROM,\$p" "$IKE/updown.log"
    section "ike.$STEP.links" ip -n left -d -j link show
    if [ -n "$DUMP_PID" ]; then
        wait "$DUMP_PID"
        local rc=$?
        section_begin "ike.$STEP.ike_dump"
        cat "$IKE/ike_dump.$STEP.json" >&3
        section_end $rc
        section "ike.$STEP.ike_dump_log" cat "$IKE/ike_dump.$STEP.log"
    fi
    agent_evidence
}

initiate() { # CHILD — from the left, waiting for the outcome (<= 20 s)
    sw left --initiate --child "$1" --timeout 20
}

pings() { # both tunnels, as ike.$STEP.ping.<if>
    section "ike.$STEP.ping.classic1" ping_from left 198.51.100.2 3 || failed=1
    section "ike.$STEP.ping.vti1" ping_from left 203.0.113.2 3 || failed=1
}

topology() {
    mk_ns left
    mk_ns right
    mk_veth left ul right ul
    addr left ul 192.0.2.1/32
    addr left ul 192.0.2.3/32
    addr right ul 192.0.2.2/32
    addr right ul 192.0.2.4/32
    run ip -n left route add 192.0.2.2/32 dev ul src 192.0.2.1
    run ip -n left route add 192.0.2.4/32 dev ul src 192.0.2.3
    run ip -n right route add 192.0.2.1/32 dev ul src 192.0.2.2
    run ip -n right route add 192.0.2.3/32 dev ul src 192.0.2.4
    local s
    for s in left right; do
        NS=$s mk_xfrm vti1 2
        NS=$s no_ipv6 vti1
    done
    NS=left mk_vti classic1 192.0.2.1 192.0.2.2 11
    NS=right mk_vti classic1 192.0.2.2 192.0.2.1 11
    NS=left no_ipv6 classic1
    NS=right no_ipv6 classic1
    addr left classic1 198.51.100.1/30
    addr right classic1 198.51.100.2/30
    addr left vti1 203.0.113.1/30
    addr right vti1 203.0.113.2/30
    # The peer's tunnels are up; the left's come up through the hook.
    NS=right link_up classic1
    NS=right link_up vti1
}

ike_main() {
    local t0 s spi_mark spi_vyos
    failed=0
    t0=$(cut -d' ' -f1 /proc/uptime)
    topology
    mkdir -p "$IKE/left" "$IKE/right"
    : >"$IKE/updown.log"
    write_hook
    for s in left right; do
        write_strongswan_conf $s
        write_swanctl_conf $s "$PSK_VYOS" "$PROPOSAL"
        # swanctl --load-all reads these credential directories; empty is fine.
        for d in x509 x509ca x509ocsp x509aa x509ac x509crl pubkey private rsa ecdsa bliss pkcs8 pkcs12; do
            mkdir -p "$IKE/$s/$d"
        done
    done
    section ike.versions /usr/bin/env "STRONGSWAN_CONF=$IKE/left/strongswan.conf" \
        /usr/lib/ipsec/charon --version || failed=1
    # The lab's PSKs, so the check can assert no other section shows them.
    section ike.secrets echo "$PSK_MARK $PSK_VYOS $PSK_WRONG"
    for s in left right; do
        section "ike.start.$s" start_charon $s || return 1
        section "ike.load.$s" load $s || return 1
    done
    start_agent || failed=1

    step baseline 10
    section ike.baseline.initiate.peer-mark-tunnel initiate peer-mark-tunnel || failed=1
    section ike.baseline.initiate.peer-vyos-vti initiate peer-vyos-vti || failed=1
    section_begin ike.baseline.wait
    { wait_until 10 link_is up classic1 && wait_until 10 link_is up vti1; } >&3 2>&1
    section_end $?
    pings
    evidence

    step rekey 8
    spi_mark=$(child_spi_in peer-mark-tunnel)
    spi_vyos=$(child_spi_in peer-vyos-vti)
    section ike.rekey.before echo "peer-mark-tunnel in $spi_mark; peer-vyos-vti in $spi_vyos"
    section ike.rekey.rekey.peer-mark-tunnel sw left --rekey --child peer-mark-tunnel
    section ike.rekey.rekey.peer-vyos-vti sw left --rekey --child peer-vyos-vti
    section_begin ike.rekey.wait
    {
        wait_until 15 rekeyed peer-mark-tunnel "$spi_mark" &&
            wait_until 15 rekeyed peer-vyos-vti "$spi_vyos" &&
            wait_until 15 only_one peer-mark-tunnel &&
            wait_until 15 only_one peer-vyos-vti
    } >&3 2>&1
    section_end $?
    pings
    evidence

    step peer_delete 5
    section ike.peer_delete.terminate sw right --terminate --child peer-vyos-vti --timeout 10
    section_begin ike.peer_delete.wait
    { wait_until 10 child_gone peer-vyos-vti && wait_until 10 link_is down vti1; } >&3 2>&1
    section_end $?
    evidence
    section ike.peer_delete.reinitiate initiate peer-vyos-vti || failed=1
    section ike.peer_delete.wait_up wait_until 10 link_is up vti1
    section ike.peer_delete.links_after ip -n left -d -j link show
    section ike.peer_delete.updown_after sed -n "$HOOK_FROM,\$p" "$IKE/updown.log"
    section ike.peer_delete.ping.vti1 ping_from left 203.0.113.2 3 || failed=1

    step dpd 18
    section_begin ike.dpd.kill
    pid=$(cat /run/charon-right.pid)
    kill -9 "$pid" >&3 2>&1
    echo "killed the right's charon (pid $pid) with SIGKILL" >&3
    wait "$pid" 2>/dev/null
    section_end 0
    section_begin ike.dpd.wait
    {
        wait_until 30 no_ike peer-mark && wait_until 30 no_ike peer-vyos &&
            wait_until 10 link_is down classic1 && wait_until 10 link_is down vti1
    } >&3 2>&1
    section_end $?
    evidence
    # The peer comes back as after a reboot: no kernel state left from the killed charon.
    ip -n right xfrm state flush
    ip -n right xfrm policy flush
    rm -f /run/charon-right.pid
    section ike.dpd.right_restart start_charon right || return 1
    section ike.dpd.right_load load right || return 1
    section ike.dpd.reinitiate.peer-mark-tunnel initiate peer-mark-tunnel || failed=1
    section ike.dpd.reinitiate.peer-vyos-vti initiate peer-vyos-vti || failed=1
    section_begin ike.dpd.wait_up
    { wait_until 10 link_is up classic1 && wait_until 10 link_is up vti1; } >&3 2>&1
    section_end $?

    step restart 40
    section ike.restart.before sw left --list-sas
    section ike.restart.stop bg_stop charon-left
    section ike.restart.stopped_links ip -n left -d -j link show
    if [ -n "${AGENT:-}" ]; then
        section ike.restart.agent_unavailable wait_until 20 ike_available 2
        NS=left section ike.restart.agent_unavailable_why snmp snmpget "$ROOT.1.1.9.0" \
            "$ROOT.1.1.10.0"
    fi
    restart_from=$(($(wc -l <"$IKE/left/charon.log") + 1))
    section ike.restart.start start_charon left || return 1
    section ike.restart.load load left || return 1
    section ike.restart.initiate.peer-mark-tunnel initiate peer-mark-tunnel || failed=1
    section ike.restart.initiate.peer-vyos-vti initiate peer-vyos-vti || failed=1
    section_begin ike.restart.wait
    { wait_until 10 link_is up classic1 && wait_until 10 link_is up vti1; } >&3 2>&1
    section_end $?
    if [ -n "${AGENT:-}" ]; then
        # The agent came back on its own: polls (vtiIkeAvailable) and its event
        # connection (a second 'registered for: log' after ike_dump's).
        section ike.restart.agent_available wait_until 40 ike_available 1
        section ike.restart.agent_registered wait_until 40 registered_twice "$restart_from"
    fi
    pings
    evidence

    step psk 8
    section ike.psk.terminate sw left --terminate --ike peer-vyos --timeout 10
    section ike.psk.wait_down wait_until 10 link_is down vti1
    write_swanctl_conf right "$PSK_WRONG" "$PROPOSAL"
    section ike.psk.right_load load right
    section ike.psk.initiate initiate peer-vyos-vti
    evidence
    write_swanctl_conf right "$PSK_VYOS" "$PROPOSAL"
    section ike.psk.right_restore load right || failed=1

    step proposal 6
    write_swanctl_conf right "$PSK_VYOS" "$PROPOSAL_OTHER"
    section ike.proposal.right_load load right
    section ike.proposal.initiate initiate peer-vyos-vti
    evidence
    write_swanctl_conf right "$PSK_VYOS" "$PROPOSAL"
    section ike.proposal.right_restore load right || failed=1

    step unreachable 12
    section ike.unreachable.route_del ip -n left route del 192.0.2.4/32 dev ul
    section ike.unreachable.initiate initiate peer-vyos-vti
    evidence
    section ike.unreachable.route_add ip -n left route add 192.0.2.4/32 dev ul src 192.0.2.3

    if [ -n "${AGENT:-}" ]; then
        section ike.agent.stop bg_stop agent
        section ike.agent_log cat /tmp/agent.log
        section ike.traps cat "$TRAPS"
        bg_stop snmptrapd >/dev/null
    fi
    section ike.right_log cat "$IKE/right/charon.log"
    section ike.psk_leak sh -c "grep -rl -e '$PSK_MARK' -e '$PSK_VYOS' -e '$PSK_WRONG' \
        $IKE/left/charon.log $IKE/right/charon.log /tmp/charon-left.log /tmp/charon-right.log \
        $IKE/updown.log; true"
    section ike.elapsed echo "guest uptime $t0 -> $(cut -d' ' -f1 /proc/uptime)"
    return $failed
}

ike_main
