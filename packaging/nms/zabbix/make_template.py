#!/usr/bin/env python3
"""Writes ipsec_vti_zabbix60.yaml, the Zabbix 6.0 template for
IPSEC-VTI-MIB, with every OID and enum taken from the MIB (run by
packaging/nms/regenerate.sh; edit this script, not the YAML)."""

import sys
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from mib import Mib  # noqa: E402
import yamlout  # noqa: E402

TEMPLATE = "IPsec VTI by SNMP"
VISIBLE_NAME = "IPsec VTI by SNMP (vti-agentx)"
GROUP = "Templates/Network devices"
NS = uuid.UUID("6f1d3c52-9c1e-4a5b-9d8e-2741a0b0c0d0")
mib = Mib()


def uid(*parts):
    """A stable UUID per entity (Zabbix 6.0 matches on it at re-import and
    wants version 4 bits): the name-based UUID with the version set to 4."""
    return uuid.UUID(bytes=uuid.uuid5(NS, "/".join(parts)).bytes, version=4).hex


def valuemap(name, obj):
    return {
        "uuid": uid("valuemap", name),
        "name": name,
        "mappings": [{"value": str(n), "newvalue": label} for n, label in sorted(mib.enum(obj).items())],
    }


def snmp_item(name, key, oid, description, **extra):
    item = {"uuid": uid("item", key), "name": name, "type": "SNMP_AGENT", "snmp_oid": oid, "key": key,
            "delay": "{$VTI.INTERVAL}"}
    item.update(extra)
    item["description"] = description
    item["tags"] = [{"tag": "component", "value": "ipsec"}]
    return item


def ref(key):
    return f"/{TEMPLATE}/{key}"


# The classified counters, one item prototype each: (column, key part, title).
CATEGORIES = [
    ("vtiIfCatCarrier", "carrier", "no usable IPsec path (carrier)"),
    ("vtiIfCatLoop", "loop", "routing loop"),
    ("vtiIfCatTooBig", "toobig", "packet too big"),
    ("vtiIfCatOutputErrors", "output", "output errors"),
    ("vtiIfCatDropped", "dropped", "dropped"),
    ("vtiIfSuspectedUnderlayDrops", "underlay", "suspected underlay drops"),
]

NOTIFICATIONS = ["vtiTxErrorRising", "vtiTxErrorFalling", "vtiSaDown", "vtiSaUp", "vtiSaExpiring"]


def idx(obj):
    return mib.oid(obj) + ".{#SNMPINDEX}"


def build():
    items = [
        snmp_item("vti-agentx: poll interval", "vti.poll.interval", mib.oid("vtiPollInterval") + ".0",
                  "vtiPollInterval: how often the agent reads the kernel.", units="s"),
        snmp_item("vti-agentx: last poll (sysUpTime ticks)", "vti.poll.last", mib.oid("vtiLastPollTime") + ".0",
                  "vtiLastPollTime: sysUpTime when the data now served was read.", trends="0"),
        snmp_item("vti-agentx: sysUpTime (ticks)", "vti.sysuptime", "1.3.6.1.2.1.1.3.0",
                  "sysUpTime of the same snmpd, to age vtiLastPollTime.", trends="0"),
        {"uuid": uid("item", "vti.data.age"), "name": "vti-agentx: age of the served data",
         "type": "CALCULATED", "key": "vti.data.age", "delay": "{$VTI.INTERVAL}", "value_type": "FLOAT",
         "units": "s", "params": "(last(//vti.sysuptime)-last(//vti.poll.last))/100",
         "description": "sysUpTime - vtiLastPollTime: how old the data the agent serves is. It grows "
                        "when the agent stops polling (see vtiPollFailures and the agent's log).",
         "tags": [{"tag": "component", "value": "ipsec"}],
         "triggers": [{
             "uuid": uid("trigger", "stale"),
             "expression": f"min({ref('vti.data.age')},#3)>{{$VTI.STALE.SECONDS}}",
             "name": "vti-agentx serves stale data (last poll {ITEM.LASTVALUE1} ago)",
             "priority": "AVERAGE",
             "description": "vtiLastPollTime stopped advancing: the agent cannot read the kernel.",
         }]},
        snmp_item("vti-agentx: tunnels", "vti.tunnels", mib.oid("vtiTunnelCount") + ".0",
                  "vtiTunnelCount: vti, vti6 and xfrm interfaces."),
        snmp_item("vti-agentx: kernel poll failures per second", "vti.poll.failures",
                  mib.oid("vtiPollFailures") + ".0", "vtiPollFailures as a rate.", value_type="FLOAT",
                  preprocessing=[{"type": "CHANGE_PER_SECOND", "parameters": [""]}]),
        snmp_item("vti-agentx: SAs and policies readable", "vti.xfrm.available",
                  mib.oid("vtiXfrmAvailable") + ".0",
                  "vtiXfrmAvailable: false means the agent lacks CAP_NET_ADMIN.",
                  valuemap={"name": "TruthValue"},
                  triggers=[{
                      "uuid": uid("trigger", "xfrm"),
                      "expression": f"last({ref('vti.xfrm.available')})=2",
                      "name": "vti-agentx cannot read IPsec SAs and policies (CAP_NET_ADMIN)",
                      "priority": "WARNING",
                  }]),
    ]
    for n in NOTIFICATIONS:
        oid = mib.oid(n)
        # snmptrapd writes the trap OID as a name when the MIB is installed,
        # else numerically: match either.
        regex = f"{n}|{oid.replace('.', '[.]')}\\b"
        items.append({
            "uuid": uid("trap", n), "name": f"SNMP trap {n}", "type": "SNMP_TRAP",
            "key": f'snmptrap["{regex}"]', "delay": "0", "history": "14d", "trends": "0",
            "value_type": "LOG", "description": f"The notification {n} ({oid}) as snmptrapd logged it.",
            "tags": [{"tag": "component", "value": "ipsec"}],
        })

    prototypes = []
    for column, part, title in CATEGORIES:
        prototypes.append(snmp_item(
            f"{{#VTINAME}}: {title} per second", f"vti.if.cat.{part}[{{#SNMPINDEX}}]", idx(column),
            f"{column} as a rate (change per second).", value_type="FLOAT", units="!/s",
            preprocessing=[{"type": "CHANGE_PER_SECOND", "parameters": [""]}]))
    prototypes += [
        snmp_item("{#VTINAME}: cause of the last TX error", "vti.if.cause[{#SNMPINDEX}]", idx("vtiIfCause"),
                  "vtiIfCause: why the most recent TX errors happened.",
                  valuemap={"name": "IPSEC-VTI-MIB::vtiIfCause"}),
        snmp_item("{#VTINAME}: diagnosis", "vti.if.diagnosis[{#SNMPINDEX}]", idx("vtiIfDiagnosis"),
                  "vtiIfDiagnosis: one line about the last error.", value_type="TEXT", trends="0"),
        snmp_item("{#VTINAME}: outbound SAs", "vti.if.outsa[{#SNMPINDEX}]", idx("vtiIfOutSaCount"),
                  "vtiIfOutSaCount: 0 means every packet into the tunnel fails."),
        snmp_item("{#VTINAME}: no outbound SA", "vti.if.nooutsa[{#SNMPINDEX}]", idx("vtiIfNoOutboundSa"),
                  "vtiIfNoOutboundSa.", valuemap={"name": "TruthValue"}),
        snmp_item("{#VTINAME}: seconds to hard expiry", "vti.if.hardexpiry[{#SNMPINDEX}]",
                  idx("vtiIfSecondsToHardExpiry"),
                  "vtiIfSecondsToHardExpiry: -1 = no outbound SA or no time limit.",
                  value_type="FLOAT", units="s"),
    ]
    rising = " or ".join(f"last({ref(f'vti.if.cat.{part}[{{#SNMPINDEX}}]')})>0" for _, part, _ in CATEGORIES)
    expiry = ref("vti.if.hardexpiry[{#SNMPINDEX}]")
    trigger_prototypes = [
        {"uuid": uid("trigger", "nooutsa"),
         "expression": f"last({ref('vti.if.nooutsa[{#SNMPINDEX}]')})=1",
         "name": "{#VTINAME}: no outbound IPsec SA", "priority": "HIGH",
         "description": "Traffic into the tunnel fails until IKE negotiates an SA."},
        {"uuid": uid("trigger", "rising"),
         "expression": f"last({ref('vti.if.cause[{#SNMPINDEX}]')})<>1 and ({rising})",
         "name": "{#VTINAME}: TX errors rising, cause {ITEM.LASTVALUE1}", "priority": "AVERAGE",
         "description": "A classified error counter rises; the diagnosis item says what the agent found."},
        {"uuid": uid("trigger", "expiring"),
         "expression": f"last({expiry})>=0 and last({expiry})<{{$VTI.SA.EXPIRY.WARN}}",
         "name": "{#VTINAME}: outbound SA expires in {ITEM.LASTVALUE1} without rekey", "priority": "WARNING",
         "description": "Rekeying is not happening; check the IKE daemon's log."},
    ]
    discovery = {
        "uuid": uid("lld", "tunnels"), "name": "IPsec tunnel discovery", "type": "SNMP_AGENT",
        "snmp_oid": f"discovery[{{#VTINAME}},{mib.oid('vtiIfName')},{{#VTIKIND}},{mib.oid('vtiIfKind')}]",
        "key": "vti.tunnel.discovery", "delay": "{$VTI.LLD.INTERVAL}", "lifetime": "7d",
        "description": "One entry per row of vtiIfTable (vti, vti6 and xfrm interfaces).",
        "item_prototypes": prototypes, "trigger_prototypes": trigger_prototypes,
    }
    template = {
        "uuid": uid("template"), "template": TEMPLATE, "name": VISIBLE_NAME,
        "description": "IPsec tunnel interfaces (vti, vti6, xfrm) served by the vti-agentx AgentX "
                       "subagent: IPSEC-VTI-MIB. Generated by packaging/nms/zabbix/make_template.py.",
        "groups": [{"name": GROUP}],
        "items": items,
        "discovery_rules": [discovery],
        "macros": [
            {"macro": "{$VTI.INTERVAL}", "value": "1m", "description": "Polling interval of the items."},
            {"macro": "{$VTI.LLD.INTERVAL}", "value": "1h", "description": "Tunnel discovery interval."},
            {"macro": "{$VTI.SA.EXPIRY.WARN}", "value": "300",
             "description": "Seconds before the hard lifetime below which an unrenewed SA is a problem."},
            {"macro": "{$VTI.STALE.SECONDS}", "value": "300",
             "description": "Age of the agent's data above which it is stale."},
        ],
        "valuemaps": [valuemap("IPSEC-VTI-MIB::vtiIfCause", "vtiIfCause"),
                      {"uuid": uid("valuemap", "TruthValue"), "name": "TruthValue",
                       "mappings": [{"value": "1", "newvalue": "true"}, {"value": "2", "newvalue": "false"}]}],
    }
    return {"zabbix_export": {"version": "6.0", "date": "2026-12-04T00:00:00Z",
                              "groups": [{"uuid": uid("group", GROUP), "name": GROUP}],
                              "templates": [template]}}


if __name__ == "__main__":
    out_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent
    out = out_dir / "ipsec_vti_zabbix60.yaml"
    out.write_text(yamlout.dump(build(), "# Generated by packaging/nms/zabbix/make_template.py from "
                                         "mibs/IPSEC-VTI-MIB.txt: do not edit.\n"))
    print(f"wrote {out}")
