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
SYNTAX_NAME = re.compile(r"SYNTAX\s+(\w+)")
TC = re.compile(r"^(\w+) ::= TEXTUAL-CONVENTION\b(.*?)SYNTAX\s+(INTEGER\s*\{[^}]*\}|\S+)", re.M | re.S)
# Enumerated textual conventions imported from SNMPv2-TC / INET-ADDRESS-MIB.
IMPORTED_ENUMS = {
    "TruthValue": {1: "true", 2: "false"},
    "InetAddressType": {0: "unknown", 1: "ipv4", 2: "ipv6", 3: "ipv4z", 4: "ipv6z", 16: "dns"},
}


class Mib:
    def __init__(self, path=MIB):
        text = path.read_text()
        self.parent = {}
        self.body = {}
        self.tc_enum = dict(IMPORTED_ENUMS)
        for m in TC.finditer(text):
            if m.group(3).startswith("INTEGER"):
                self.tc_enum[m.group(1)] = _labels(m.group(3))
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
        """{number: label} of an object whose SYNTAX is an INTEGER
        enumeration or an enumerated textual convention."""
        m = ENUM.search(self.body[name])
        if m:
            return _labels(m.group(1))
        m = SYNTAX_NAME.search(self.body[name])
        if m and m.group(1) in self.tc_enum:
            return self.tc_enum[m.group(1)]
        raise KeyError(f"{name} has no INTEGER enumeration")

    def syntax(self, name):
        m = SYNTAX_NAME.search(self.body.get(name, ""))
        return m.group(1) if m else None

    def names(self):
        """{numeric OID: name} of every object the MIB assigns."""
        return {self.oid(n): n for n in self.parent}


def _labels(text):
    return {int(n): label for label, n in re.findall(r"(\w+)\((\d+)\)", text)}
