"""The OIDs and enums of IPSEC-VTI-MIB, read from mibs/IPSEC-VTI-MIB.txt.

A small reader for the one MIB this project writes (its own layout: every
object assigned with '::= { parent N }' under vtiMIB), so the NMS artifacts
are generated from the MIB instead of carrying copied OIDs. Not a general
SMI parser.
"""

import re
from pathlib import Path

MIB = Path(__file__).resolve().parents[2] / "mibs" / "IPSEC-VTI-MIB.txt"

# vtiMIB ::= { netSnmpPlaypen 2741 }; netSnmpPlaypen is NET-SNMP-MIB's
# 1.3.6.1.4.1.8072.9999.9999.
KNOWN = {"netSnmpPlaypen": "1.3.6.1.4.1.8072.9999.9999"}

ASSIGNMENT = re.compile(r"^(\w+)[ \t]+(?:OBJECT IDENTIFIER|MODULE-IDENTITY|OBJECT-TYPE|NOTIFICATION-TYPE|OBJECT-GROUP|NOTIFICATION-GROUP|MODULE-COMPLIANCE)\b(.*?)::=\s*\{\s*(\w+)\s+(\d+)\s*\}",
                        re.M | re.S)
ENUM = re.compile(r"SYNTAX\s+INTEGER\s*\{([^}]*)\}", re.S)


class Mib:
    def __init__(self, path=MIB):
        text = path.read_text()
        self.parent = {}
        self.body = {}
        for m in ASSIGNMENT.finditer(text):
            name, body, parent, number = m.groups()
            self.parent[name] = (parent, number)
            self.body[name] = body

    def oid(self, name):
        if name in KNOWN:
            return KNOWN[name]
        parent, number = self.parent[name]
        return f"{self.oid(parent)}.{number}"

    def enum(self, name):
        """{number: label} of an INTEGER enumeration object."""
        m = ENUM.search(self.body[name])
        if not m:
            raise KeyError(f"{name} has no INTEGER enumeration")
        return {int(n): label for label, n in re.findall(r"(\w+)\((\d+)\)", m.group(1))}
