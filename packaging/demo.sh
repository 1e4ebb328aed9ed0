#!/usr/bin/env bash
# The demo in one command (README, "The two commands"):
#
#   bash packaging/demo.sh
#
# Installs what it needs (Debian 12; root or sudo), builds vti-agentx, boots a real
# Debian 6.12 cloud kernel under QEMU (no NIC; everything stays inside the guest) with
# six IPsec tunnels (vti, vti6, xfrm) to a peer namespace, net-snmp's snmpd and
# snmptrapd, and vti-agentx; induces three faults (SA gone, routing loop, MTU too big)
# and prints what an operator sees: `vti-agentx show`, then a few named columns per
# tunnel from an snmpwalk of IPSEC-VTI-MIB and the notifications snmptrapd received,
# decoded with the MIB (packaging/nms/summary.py).
set -euo pipefail
cd "$(dirname "$0")/.."

sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)

need=(qemu-system-x86 busybox-static kmod cpio xz-utils iproute2 iputils-ping util-linux
      snmpd snmp snmptrapd python3)
missing=()
for p in "${need[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})) || ! ls /var/lib/apt/lists/*Packages* >/dev/null 2>&1; then
    echo "==> installing: ${missing[*]:-(package lists only)}"
    "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    ((${#missing[@]} == 0)) || "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq "${missing[@]}" >/dev/null
fi
if ! command -v cargo >/dev/null; then
    echo "vti-agentx needs Rust >= 1.88 to build: install it with rustup (https://rustup.rs)," >&2
    echo "then run this command again." >&2
    exit 2
fi

echo "==> building vti-agentx (release)"
cargo build --release --quiet

out=target/demo
echo "==> booting Debian's 6.12 cloud kernel under QEMU (first run downloads it)"
"${sudo_cmd[@]}" tests/lab/run.sh --kernel 6.12 --agent target/release/vti-agentx \
    --scenario packaging/demo-scenario.sh --out "$out" --timeout 600 >"$out.run.log" 2>&1 || {
    cat "$out.run.log" >&2
    echo "demo: the guest run failed; see $out/console.log" >&2
    exit 1
}

section() { # section NAME: the body of one result section
    awk -v n="$1" '$0 == "=== BEGIN " n " ===" {on=1; next}
                   on && index($0, "=== END " n " rc=") == 1 {exit}
                   on {print}' "$out/results.txt"
}

echo
echo "================ vti-agentx show (inside the guest, while the faults are live) ================"
section demo.show
section demo.walk >"$out/walk.txt"
section demo.traps >"$out/traps.txt"
echo
echo "================ through snmpd: IPSEC-VTI-MIB walk and notifications, decoded ================"
python3 packaging/nms/summary.py --walk "$out/walk.txt" --traps "$out/traps.txt"
echo
echo "(numeric walk: $out/walk.txt; traps: $out/traps.txt; everything: $out/results.txt;"
echo " guest console: $out/console.log)"
