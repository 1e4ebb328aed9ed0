#!/usr/bin/env bash
# Regenerates the NMS artifacts that are built from the MIB, and checks the
# hand-written ones against it. Run after every change to
# mibs/IPSEC-VTI-MIB.txt (or to snmp_exporter/generator.yml):
#
#     packaging/nms/regenerate.sh          # rewrite snmp_exporter/snmp.yml
#     packaging/nms/regenerate.sh --check  # only fail if it is out of date
#
# Needs Debian's prometheus-snmp-exporter (its prometheus-snmp-generator) and
# the IETF MIBs our MIB imports (SNMPv2-SMI, IF-MIB, INET-ADDRESS-MIB, ...),
# which Debian ships only in non-free (snmp-mibs-downloader). Point
# IETF_MIBS at a directory holding them; the default is ../shared/mibs/ietf
# beside the clone, as CI has it. They are never copied into the project.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
ietf="${IETF_MIBS:-$repo/../shared/mibs/ietf}"
check=false
[ "${1:-}" = "--check" ] && check=true

command -v prometheus-snmp-generator >/dev/null ||
    { echo "regenerate.sh: prometheus-snmp-generator missing (apt-get install prometheus-snmp-exporter)" >&2; exit 2; }
[ -d "$ietf" ] ||
    { echo "regenerate.sh: IETF MIBs not found at $ietf (set IETF_MIBS)" >&2; exit 2; }

# Only the modules IPSEC-VTI-MIB needs, so that a broken unrelated MIB in
# the IETF directory cannot hide an error in ours (--fail-on-parse-errors).
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir "$work/mibs"
ln -s "$repo/mibs/IPSEC-VTI-MIB.txt" "$work/mibs/"
for m in SNMPv2-SMI SNMPv2-TC SNMPv2-CONF SNMPv2-MIB IF-MIB IANAifType-MIB \
         INET-ADDRESS-MIB HCNUM-TC NET-SNMP-MIB; do
    [ -f "$ietf/$m.txt" ] || { echo "regenerate.sh: $ietf/$m.txt missing" >&2; exit 2; }
    ln -s "$ietf/$m.txt" "$work/mibs/"
done

cd "$here/snmp_exporter"
MIBDIRS="$work/mibs" prometheus-snmp-generator --fail-on-parse-errors \
    generate -o "$work/snmp.yml" 2>"$work/generator.log" ||
    { cat "$work/generator.log" >&2; exit 1; }
if $check; then
    if ! diff -u snmp.yml "$work/snmp.yml"; then
        echo "regenerate.sh: snmp_exporter/snmp.yml is out of date: run packaging/nms/regenerate.sh" >&2
        exit 1
    fi
    echo "snmp_exporter/snmp.yml is up to date"
else
    cp "$work/snmp.yml" snmp.yml
    echo "wrote $here/snmp_exporter/snmp.yml"
fi
