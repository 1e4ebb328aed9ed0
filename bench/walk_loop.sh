#!/usr/bin/env bash
# walk_loop.sh K PORT OID [MAX_REPETITIONS]: K full `snmpbulkwalk -v2c -CrR`
# of OID at udp:127.0.0.1:PORT, back to back; prints
# "elapsed_us varbinds_total failures". Run inside a netns with
# `ip netns exec` when the agent is there, so the exec cost stays outside the
# timed part. Errors go to $WALK_ERR (default /dev/null).
set -u
k=$1 port=$2 oid=$3 rep=${4:-50}
export MIBS="" MIBDIRS=/nonexistent
total=0 fail=0
t0=${EPOCHREALTIME/./}
for ((i = 0; i < k; i++)); do
    if n=$(set -o pipefail; snmpbulkwalk -v2c -c public -On -t 10 -r 0 "-Cr$rep" \
        "127.0.0.1:$port" "$oid" 2>>"${WALK_ERR:-/dev/null}" | grep -c '^\.'); then
        total=$((total + n))
    else
        fail=$((fail + 1))
        total=$((total + ${n:-0}))
    fi
done
t1=${EPOCHREALTIME/./}
echo "$((t1 - t0)) $total $fail"
