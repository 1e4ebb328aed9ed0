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

# InetAddress (4 or 16 bytes) as text. Zabbix hands an OCTET STRING over as
# net-snmp prints it: "C6 33 64 07" (hex) unless every byte is printable,
# then as the raw bytes; empty when the agent knows no address. One line:
# the YAML writer folds line breaks in quoted strings.
INET_ADDRESS_JS = (
    "var t = value.trim().split(/\\s+/), b = [], i;"
    " if ((t.length == 4 || t.length == 16) && t.every(function (h) { return /^[0-9A-Fa-f]{2}$/.test(h); }))"
    " b = t.map(function (h) { return parseInt(h, 16); });"
    " else for (i = 0; i < value.length; i++) b.push(value.charCodeAt(i) & 255);"
    " if (b.length == 4) return b.join('.');"
    " if (b.length != 16) return '';"
    " var g = [], at = -1, run = 0;"
    " for (i = 0; i < 16; i += 2) g.push(((b[i] << 8) | b[i + 1]).toString(16));"
    " for (i = 0; i < 8; i++) { var n = 0; while (i + n < 8 && g[i + n] == '0') n++;"
    " if (n > run) { at = i; run = n; } if (n) i += n - 1; }"
    " if (run < 2) return g.join(':');"
    " return g.slice(0, at).join(':') + '::' + g.slice(at + run).join(':');"
)


def idx(obj):
    return mib.oid(obj) + ".{#SNMPINDEX}"


# CHILD_SA states that carry traffic (VtiChildSaState): installed and the
# rekey states; any other means IKE has not given the tunnel an SA.
CHILD_UP = ("installed", "updating", "rekeying", "rekeyed")


def ike_parts():
    """Template items, item prototypes and trigger prototypes for the IKE
    objects, if the MIB has them (vtiIkeAvailable, vtiIfIke* columns)."""
    if not mib.has("vtiIfIkeChildState"):
        return [], [], []
    items = [snmp_item("vti-agentx: IKE daemon readable", "vti.ike.available", mib.oid("vtiIkeAvailable") + ".0",
                       "vtiIkeAvailable: false means the agent cannot read charon over VICI (not running, "
                       "no permission on the socket, or [ike] disabled); the per-tunnel IKE items then say "
                       "none, meaning unknown.", valuemap={"name": "TruthValue"})]
    prototypes = [
        snmp_item("{#VTINAME}: IKE connection row", "vti.if.ike.index[{#SNMPINDEX}]", idx("vtiIfIkeIndex"),
                  "vtiIfIkeIndex: the vtiIkeTable row of the IKE connection driving the tunnel; 0 = none "
                  "joins it (no IKE daemon, or the CHILD_SA never came up since the agent started).",
                  preprocessing=[{"type": "DISCARD_UNCHANGED_HEARTBEAT", "parameters": ["1h"]}]),
        snmp_item("{#VTINAME}: IKE connection", "vti.if.ike.conn[{#SNMPINDEX}]", idx("vtiIfIkeConnName"),
                  "vtiIfIkeConnName/vtiIfIkeChildName: the swanctl.conf connection driving the tunnel.",
                  value_type="CHAR", trends="0",
                  preprocessing=[{"type": "DISCARD_UNCHANGED_HEARTBEAT", "parameters": ["1h"]}]),
        snmp_item("{#VTINAME}: IKE SA state", "vti.if.ike.state[{#SNMPINDEX}]", idx("vtiIfIkeState"),
                  "vtiIfIkeState: established is the working state.",
                  valuemap={"name": "IPSEC-VTI-MIB::VtiIkeSaState"}),
        snmp_item("{#VTINAME}: CHILD_SA state", "vti.if.ike.child[{#SNMPINDEX}]", idx("vtiIfIkeChildState"),
                  "vtiIfIkeChildState: installed (or updating, rekeying, rekeyed) carries traffic.",
                  valuemap={"name": "IPSEC-VTI-MIB::VtiChildSaState"}),
        snmp_item("{#VTINAME}: IKE last failure", "vti.if.ike.fail[{#SNMPINDEX}]", idx("vtiIfIkeLastFailReason"),
                  "vtiIfIkeLastFailReason: why the connection last failed (vtiIfIkeLastFailText has "
                  "charon's message).", valuemap={"name": "IPSEC-VTI-MIB::VtiIkeFailReason"}),
    ]
    states = {label: n for n, label in mib.enum("vtiIfIkeChildState").items()}
    up = sorted(states[s] for s in CHILD_UP)
    assert up == list(range(up[0], up[-1] + 1)), "the up states must be one range"
    child = ref("vti.if.ike.child[{#SNMPINDEX}]")
    triggers = [{
        "uuid": uid("trigger", "ikedown"),
        # No value in the up range in the last two polls, on a tunnel an IKE
        # connection drives, while the agent reads charon.
        "expression": f'count({child},#2,"ge","{up[0]}")-count({child},#2,"gt","{up[-1]}")=0'
                      f" and last({ref('vti.if.ike.index[{#SNMPINDEX}]')})>0"
                      f" and last({ref('vti.ike.available')})=1",
        "name": "{#VTINAME}: IKE down (CHILD_SA {ITEM.LASTVALUE1})", "priority": "HIGH",
        "description": "The IKE connection driving the tunnel has no CHILD_SA carrying traffic: the "
                       "IKE last failure item says why (authentication, proposals, peer unreachable, "
                       "DPD timeout, deleted by the peer).",
    }]
    return items, prototypes, triggers


def build():
    ike_items, ike_prototypes, ike_triggers = ike_parts()
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
    items.append(snmp_item(
        "vti-agentx: last event index", "vti.event.last", mib.oid("vtiEventLastIndex") + ".0",
        "vtiEventLastIndex: the number of the newest row of vtiEventTable, one more per event (also "
        "for events whose notification was not sent). Every trap carries it too: a gap between the "
        "values of two trap items, or a rise here without a trap, means events whose trap did not "
        "arrive (or was switched off or held down, see vtiEventNotification); read them with "
        "'snmpwalk ... IPSEC-VTI-MIB::vtiEventTable'. Starts at 0 again when the agent restarts.",
        preprocessing=[{"type": "DISCARD_UNCHANGED_HEARTBEAT", "parameters": ["1h"]}]))
    items += ike_items
    for n in mib.notifications():
        oid = mib.oid(n)
        # snmptrapd writes the trap OID as a name when the MIB is installed,
        # else numerically: match either (the varbinds' OIDs are under
        # vtiObjects, never vtiNotifications.N, so they cannot match).
        regex = f"{n}|{oid.replace('.', '[.]')}\\b"
        items.append({
            "uuid": uid("trap", n), "name": f"SNMP trap {n}", "type": "SNMP_TRAP",
            "key": f'snmptrap["{regex}"]', "delay": "0", "history": "14d", "trends": "0",
            "value_type": "LOG",
            "description": f"The notification {n} ({oid}) as snmptrapd logged it, with "
                           f"{', '.join(mib.objects(n))}.",
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
        snmp_item("{#VTINAME}: peer address", "vti.if.peer[{#SNMPINDEX}]", idx("vtiIfPeerAddr"),
                  "vtiIfPeerAddr: the outer address of the peer (the configured remote, else the "
                  "outbound SA's or the outbound policy template's destination); empty when unknown.",
                  value_type="CHAR", trends="0",
                  preprocessing=[{"type": "JAVASCRIPT", "parameters": [INET_ADDRESS_JS]},
                                 {"type": "DISCARD_UNCHANGED_HEARTBEAT", "parameters": ["1h"]}]),
        snmp_item("{#VTINAME}: peer address source", "vti.if.peer.source[{#SNMPINDEX}]",
                  idx("vtiIfPeerAddrSource"),
                  "vtiIfPeerAddrSource: where the peer address comes from; policyTemplate means the "
                  "tunnel has no outbound SA (e.g. IKE down).",
                  valuemap={"name": "IPSEC-VTI-MIB::vtiIfPeerAddrSource"}),
    ] + ike_prototypes
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
    ] + ike_triggers
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
                      valuemap("IPSEC-VTI-MIB::vtiIfPeerAddrSource", "vtiIfPeerAddrSource"),
                      *([valuemap("IPSEC-VTI-MIB::VtiIkeSaState", "vtiIfIkeState"),
                         valuemap("IPSEC-VTI-MIB::VtiChildSaState", "vtiIfIkeChildState"),
                         valuemap("IPSEC-VTI-MIB::VtiIkeFailReason", "vtiIfIkeLastFailReason")]
                        if ike_prototypes else []),
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
