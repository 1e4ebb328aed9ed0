#!/usr/bin/env bash
# Regenerates the NMS artifacts from the MIB. Run after every change to
# mibs/IPSEC-VTI-MIB.txt (or to a generator below):
#
#     packaging/nms/regenerate.sh                  # rewrite all of them
#     packaging/nms/regenerate.sh --check          # fail if one is out of date
#     packaging/nms/regenerate.sh [--check] PART.. # only these parts
#
# PARTS
#   snmp_exporter  snmp_exporter/snmp.yml from snmp_exporter/generator.yml, by
#                  Debian's prometheus-snmp-generator (package
#                  prometheus-snmp-exporter). It needs the IETF MIBs our MIB
#                  imports (SNMPv2-SMI, IF-MIB, ...), which Debian ships only in
#                  non-free (snmp-mibs-downloader): IETF_MIBS=DIR, default
#                  ../shared/mibs/ietf beside the clone, as CI has it. They are
#                  never copied into the project.
#   zabbix         zabbix/ipsec_vti_zabbix60.yaml (zabbix/make_template.py)
#   librenms       librenms/ipsec-vti.yaml (librenms/make_definition.py)
# The last two need only python3; they read OIDs and enums from the MIB.
set -euo pipefail
export PYTHONDONTWRITEBYTECODE=1
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
ietf="${IETF_MIBS:-$repo/../shared/mibs/ietf}"
check=false
if [ "${1:-}" = "--check" ]; then check=true; shift; fi
parts=("$@")
((${#parts[@]})) || parts=(snmp_exporter zabbix librenms)

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
failed=0

# Installs $1 (generated in $work) as $2, or with --check compares them.
deliver() {
    local new="$1" committed="$2"
    if $check; then
        if diff -u "$committed" "$new"; then
            echo "up to date: ${committed#"$repo"/}"
        else
            echo "OUT OF DATE: ${committed#"$repo"/} (run packaging/nms/regenerate.sh)" >&2
            failed=1
        fi
    else
        cp "$new" "$committed"
        echo "wrote ${committed#"$repo"/}"
    fi
}

snmp_exporter() {
    command -v prometheus-snmp-generator >/dev/null ||
        { echo "regenerate.sh: prometheus-snmp-generator missing (apt-get install prometheus-snmp-exporter)" >&2; exit 2; }
    [ -d "$ietf" ] || { echo "regenerate.sh: IETF MIBs not found at $ietf (set IETF_MIBS)" >&2; exit 2; }
    # Only the modules IPSEC-VTI-MIB needs, so that a broken unrelated MIB in
    # the IETF directory cannot hide an error in ours (--fail-on-parse-errors).
    mkdir "$work/mibs"
    ln -s "$repo/mibs/IPSEC-VTI-MIB.txt" "$work/mibs/"
    for m in SNMPv2-SMI SNMPv2-TC SNMPv2-CONF SNMPv2-MIB IF-MIB IANAifType-MIB \
             INET-ADDRESS-MIB HCNUM-TC NET-SNMP-MIB; do
        [ -f "$ietf/$m.txt" ] || { echo "regenerate.sh: $ietf/$m.txt missing" >&2; exit 2; }
        ln -s "$ietf/$m.txt" "$work/mibs/"
    done
    (cd "$here/snmp_exporter" && MIBDIRS="$work/mibs" prometheus-snmp-generator \
        --fail-on-parse-errors generate -o "$work/snmp.yml" 2>"$work/generator.log") ||
        { cat "$work/generator.log" >&2; exit 1; }
    deliver "$work/snmp.yml" "$here/snmp_exporter/snmp.yml"
}

zabbix() {
    python3 "$here/zabbix/make_template.py" "$work" >/dev/null
    deliver "$work/ipsec_vti_zabbix60.yaml" "$here/zabbix/ipsec_vti_zabbix60.yaml"
}

librenms() {
    python3 "$here/librenms/make_definition.py" "$work" >/dev/null
    python3 "$here/librenms/check.py"
    deliver "$work/ipsec-vti.yaml" "$here/librenms/ipsec-vti.yaml"
}

for p in "${parts[@]}"; do
    case "$p" in
        snmp_exporter|zabbix|librenms) "$p" ;;
        *) echo "regenerate.sh: unknown part $p" >&2; exit 2 ;;
    esac
done
exit "$failed"
