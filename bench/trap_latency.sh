#!/usr/bin/env bash
# Trap latency bench (issue 5): time from a tunnel's error counter moving to
# the vtiTxErrorRising line in a real snmptrapd's log, through a real snmpd
# (AgentX Notify → trap2sink), median over ≥ 10 events, printed as
# "poll interval + X ms". See examples/trap_latency.rs for the method.
#
# Usage: bench/trap_latency.sh [--events N] [--interval SECS]
#   defaults: 12 events, 1 s poll interval. PROFILE=debug for a debug build.
# Needs: snmpd, snmptrapd, snmp (Debian packages); loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."
profile=(--release)
[ "${PROFILE:-release}" = debug ] && profile=()
exec cargo run --quiet "${profile[@]}" --example trap_latency -- "$@"
