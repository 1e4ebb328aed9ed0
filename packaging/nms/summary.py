#!/usr/bin/env python3
"""A short, named summary of numeric SNMP output about IPSEC-VTI-MIB: a
few columns per tunnel from a walk, and the notifications from an
snmptrapd log, decoded with the MIB (mibs/IPSEC-VTI-MIB.txt; no other MIB
files needed).

    summary.py --walk FILE [--traps FILE]

FILE for --walk: `snmpwalk -On ROOT` output. FILE for --traps: an
snmptrapd log written with `format2 TRAP\\t%v\\n` and -On (one line per
notification, varbinds tab-separated), as packaging/demo-scenario.sh and
the tests configure it."""

import argparse
import ipaddress
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from mib import Mib  # noqa: E402

mib = Mib()
NAMES = mib.names()
ROOT = mib.oid("vtiMIB")
IF_ENTRY = mib.oid("vtiIfEntry")
SYS_UPTIME = "1.3.6.1.2.1.1.3.0"
TRAP_OID = "1.3.6.1.6.3.1.1.4.1.0"
STANDARD_TRAPS = {"1.3.6.1.6.3.1.1.5.1": "coldStart", "1.3.6.1.6.3.1.1.5.2": "warmStart"}
TRAP_ENTERPRISE = "1.3.6.1.6.3.1.1.4.3.0"
# Object name prefixes left out in the notification lines.
PREFIXES = ("vtiAlarmEvent", "vtiAlarmLast", "vtiAlarm", "vtiIf", "vti")
VARBIND = re.compile(r"^\.?([\d.]+) = (?:([\w-]+): )?(.*)$")

# The tunnel table's columns in the summary: (heading, object).
COLUMNS = [
    ("tunnel", "vtiIfName"), ("kind", "vtiIfKind"), ("oper", "vtiIfOperStatus"),
    ("cause", "vtiIfCause"), ("out SAs", "vtiIfOutSaCount"), ("hard expiry s", "vtiIfSecondsToHardExpiry"),
    ("carrier", "vtiIfCatCarrier"), ("loop", "vtiIfCatLoop"), ("too big", "vtiIfCatTooBig"),
    ("output", "vtiIfCatOutputErrors"),
]


def split_oid(oid):
    """(object name, instance suffix) by the longest known prefix."""
    parts = oid.split(".")
    for n in range(len(parts), 0, -1):
        name = NAMES.get(".".join(parts[:n]))
        if name:
            return name, ".".join(parts[n:])
    return oid, ""


def decode(name, kind, value):
    if kind == "STRING":
        return value.strip('"')
    if kind == "Hex-STRING":
        raw = bytes(int(b, 16) for b in value.split())
        if mib.syntax(name) == "InetAddress" and len(raw) in (4, 16):
            return str(ipaddress.ip_address(raw))
        return raw.decode(errors="replace")
    if kind == "Timeticks":
        return int(re.match(r"\((\d+)\)", value).group(1))
    if kind == "OID":
        return split_oid(value.lstrip("."))[0]
    if kind == "INTEGER":
        try:
            return mib.enum(name).get(int(value), value)
        except KeyError:
            return int(value)
    if value == '""':
        return ""
    try:
        return int(value)
    except ValueError:
        return value


def varbinds(lines):
    """[(oid, kind, value)] from -On lines; continuation lines join."""
    out = []
    for line in lines:
        m = VARBIND.match(line)
        if m:
            out.append([m.group(1), m.group(2) or "", m.group(3)])
        elif out and line.strip():
            out[-1][2] += " " + line.strip()
    return out


def tunnels(walk_lines):
    rows = {}
    for oid, kind, value in varbinds(walk_lines):
        if not oid.startswith(IF_ENTRY + "."):
            continue
        name, index = split_oid(oid)
        rows.setdefault(int(index), {})[name] = decode(name, kind, value)
    return rows


def print_tunnels(rows):
    table = [[h for h, _ in COLUMNS]]
    for index in sorted(rows):
        table.append([str(rows[index].get(obj, "-")) for _, obj in COLUMNS])
    widths = [max(len(r[i]) for r in table) for i in range(len(COLUMNS))]
    print(f"Tunnels (vtiIfTable, {len(rows)} rows):")
    for k, r in enumerate(table):
        print("  " + "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
        if k and rows[sorted(rows)[k - 1]].get("vtiIfDiagnosis"):
            print(f"  {'':{widths[0]}}  diagnosis: {rows[sorted(rows)[k - 1]]['vtiIfDiagnosis']}")


def print_traps(lines):
    traps = [varbinds(line.split("\t")[1:]) for line in lines if line.startswith("TRAP\t")]
    print(f"Notifications received ({len(traps)}):")
    for vbs in traps:
        uptime, kind, tunnel, fields = None, "?", "", []
        for oid, k, value in vbs:
            name, index = split_oid(oid)
            v = decode(name, k, value)
            if oid == SYS_UPTIME:
                uptime = v
            elif oid == TRAP_ENTERPRISE:
                continue
            elif oid == TRAP_OID:
                kind = STANDARD_TRAPS.get(value.lstrip("."), v)
            elif name == "vtiIfName":
                tunnel = v
            else:
                short = next((name[len(p):] for p in PREFIXES if name.startswith(p)), name)
                short = short[0].lower() + short[1:]
                fields.append(f"{short}={v!r}" if isinstance(v, str) and " " in v else f"{short}={v}")
        at = f"{uptime / 100:8.2f}s" if isinstance(uptime, int) else " " * 9
        print(f"  {at}  {kind:18} {tunnel:8} {' '.join(fields)}".rstrip())


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--walk", required=True)
    ap.add_argument("--traps")
    a = ap.parse_args()
    print_tunnels(tunnels(Path(a.walk).read_text().splitlines()))
    if a.traps:
        print()
        print_traps(Path(a.traps).read_text().splitlines())


if __name__ == "__main__":
    main()
