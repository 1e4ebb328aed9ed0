#!/usr/bin/env bash
# The demo in one command (README, "The two commands"):
#
#   bash packaging/demo.sh
#
# Installs what it needs (Debian 12; root or sudo), builds vti-agentx, boots a real
# Debian 6.12 cloud kernel under QEMU (no NIC; everything stays inside the guest) with
# six IPsec tunnels (vti, vti6, xfrm) to a peer namespace, net-snmp's snmpd and
# snmptrapd, and vti-agentx; induces three faults (SA gone, routing loop, MTU too big)
# and prints what an operator sees: `vti-agentx show`, an snmpwalk of IPSEC-VTI-MIB with
# names resolved, and the notifications snmptrapd received.
set -euo pipefail
cd "$(dirname "$0")/.."

sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)

need=(qemu-system-x86 busybox-static kmod cpio xz-utils iproute2 iputils-ping util-linux
      snmpd snmp snmptrapd)
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

# Name resolution needs the IETF base MIBs our module imports (Debian ships them only
# in the non-free snmp-mibs-downloader package).
ietf=""
for d in ../shared/mibs/ietf /usr/share/snmp/mibs/ietf /usr/share/snmp/mibs; do
    [ -f "$d/IF-MIB.txt" ] || [ -f "$d/IF-MIB" ] && { ietf=$d; break; }
done
names() { cat; }
if [ -n "$ietf" ]; then
    map=$(mktemp)
    MIBDIRS="$PWD/mibs:$ietf" snmptranslate -m IPSEC-VTI-MIB -Tz 2>/dev/null |
        tr -d '"' | awk '{print $2, $1}' >"$map"
    names() { # longest known prefix of each numeric OID → IPSEC-VTI-MIB::name.index
        awk -v map="$map" '
            BEGIN { while ((getline l < map) > 0) { split(l, f, " "); name["." f[1]] = f[2] } }
            {
                for (i = 1; i <= NF; i++) {
                    w = $i; if (w !~ /^\.1\.3\.6\./) continue
                    p = w; tail = ""
                    while (p != "" && !(p in name)) {
                        k = match(p, /\.[0-9]+$/); if (!k) break
                        tail = substr(p, k) tail; p = substr(p, 1, k - 1)
                    }
                    if (!(p in name)) continue
                    mod = (index(p, ".1.3.6.1.4.1.8072.9999.9999.2741") == 1) ? "IPSEC-VTI-MIB::" : ""
                    $i = mod name[p] tail
                }
                print
            }'
    }
else
    echo "!! No IETF base MIBs (IF-MIB, INET-ADDRESS-MIB, …) found in ../shared/mibs/ietf or"
    echo "!! /usr/share/snmp/mibs: OIDs below stay numeric. Install snmp-mibs-downloader"
    echo "!! (Debian non-free) to see names."
fi

echo
echo "================ vti-agentx show (inside the guest, while the faults are live) ================"
section demo.show
echo
echo "================ snmpwalk IPSEC-VTI-MIB through snmpd (AgentX) ================"
section demo.walk | names
echo
echo "================ notifications received by snmptrapd ================"
section demo.traps | grep -v -e '^Created directory' -e '^NET-SNMP version' | names
echo
echo "(full results: $out/results.txt; guest console: $out/console.log)"
