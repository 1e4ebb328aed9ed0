#!/usr/bin/env python3
"""The API half of prove.sh against a running Zabbix 6.0.

    prove_api.py discover API_URL TEMPLATE_YAML SNMP_PORT
        imports the template, creates a host with an SNMP interface to the
        private snmpd, waits for the tunnel discovery and checks that every
        discovered item (and every template item polled over SNMP) got a
        value;
    prove_api.py traps API_URL
        waits until the host's SNMP trap items got the notifications.
"""

import json
import sys
import time
import urllib.request

phase, url = sys.argv[1], sys.argv[2]
TEMPLATE = "IPsec VTI by SNMP"
SNMP_TRAP = "17"
token = None


def call(method, params):
    body = {"jsonrpc": "2.0", "method": method, "params": params, "id": 1}
    if token:
        body["auth"] = token
    req = urllib.request.Request(url, json.dumps(body).encode(), {"Content-Type": "application/json-rpc"})
    with urllib.request.urlopen(req, timeout=120) as r:
        answer = json.load(r)
    if "error" in answer:
        raise SystemExit(f"{method} failed: {answer['error']}")
    return answer["result"]


for _ in range(60):
    try:
        version = call("apiinfo.version", {})
        break
    except (OSError, SystemExit):
        time.sleep(1)
else:
    raise SystemExit("the frontend API did not answer")
print(f"API version {version}")
token = call("user.login", {"username": "Admin", "password": "zabbix"})


def traps():
    host = call("host.get", {"filter": {"host": ["vti-prove"]}, "output": ["hostid"]})[0]["hostid"]
    deadline = time.time() + 120
    while time.time() < deadline:
        time.sleep(5)
        items = call("item.get", {"hostids": host, "filter": {"type": SNMP_TRAP},
                                  "output": ["name", "lastvalue", "lastclock"]})
        got = [i for i in items if i["lastclock"] != "0"]
        print(f"  {len(got)}/{len(items)} trap items with a value")
        if any(i["name"].endswith("vtiTxErrorRising") for i in got):
            break
    else:
        raise SystemExit("no vtiTxErrorRising trap reached its item within 120 s")
    print("\nTRAP ITEMS:")
    for i in items:
        first = i["lastvalue"].splitlines()[0] if i["lastvalue"] else "(none)"
        print(f"  {i['name']:32} {first}")
        for line in i["lastvalue"].splitlines()[1:]:
            print(f"  {'':32} {line}")


if phase == "traps":
    traps()
    sys.exit(0)
template_file, snmp_port = sys.argv[3], sys.argv[4]

rules = {k: {"createMissing": True, "updateExisting": True}
         for k in ("templates", "items", "discoveryRules", "triggers", "valueMaps")}
rules["groups"] = {"createMissing": True}
with open(template_file) as f:
    imported = call("configuration.import", {"format": "yaml", "rules": rules, "source": f.read()})
print(f"configuration.import: {imported}")
assert imported is True

tpl = call("template.get", {"filter": {"host": [TEMPLATE]}, "output": ["templateid"],
                            "selectItems": "count", "selectDiscoveries": "count", "selectTriggers": "count",
                            "selectMacros": ["macro"]})[0]
prototypes = call("itemprototype.get", {"templateids": tpl["templateid"], "output": ["key_"]})
tprot = call("triggerprototype.get", {"templateids": tpl["templateid"], "output": ["description"]})
print(f"template {TEMPLATE}: {tpl['items']} items, {tpl['discoveries']} discovery rule, "
      f"{len(prototypes)} item prototypes, {len(tprot)} trigger prototypes, {tpl['triggers']} triggers, "
      f"{len(tpl['macros'])} macros")

group = call("hostgroup.create", {"name": "vti-agentx prove"})["groupids"][0]
host = call("host.create", {
    "host": "vti-prove",
    "interfaces": [{"type": 2, "main": 1, "useip": 1, "ip": "127.0.0.1", "dns": "", "port": snmp_port,
                    "details": {"version": 2, "bulk": 1, "community": "public"}}],
    "groups": [{"groupid": group}],
    "templates": [{"templateid": tpl["templateid"]}],
    "macros": [{"macro": "{$VTI.LLD.INTERVAL}", "value": "10s"},
               {"macro": "{$VTI.INTERVAL}", "value": "5s"}],
})["hostids"][0]
print(f"host vti-prove ({host}) with SNMPv2c interface 127.0.0.1:{snmp_port}")

tunnels = None
deadline = time.time() + 300
while time.time() < deadline:
    time.sleep(5)
    rule = call("discoveryrule.get", {"hostids": host, "output": ["key_", "state", "error"]})[0]
    items = call("item.get", {"hostids": host, "output": ["key_", "name", "lastvalue", "lastclock", "state",
                                                          "error", "type", "flags"],
                              "webitems": False})
    discovered = [i for i in items if i["flags"] == "4"]
    polled = [i for i in items if i["type"] != SNMP_TRAP and i["flags"] == "0"]
    keys = {i["key_"].split("[")[1] for i in discovered}
    tunnels = len(keys)
    with_value = [i for i in discovered + polled if i["lastclock"] != "0"]
    unsupported = [i for i in items if i["state"] == "1"]
    print(f"  discovery rule state={rule['state']} {rule['error']!r}: {tunnels} tunnels, "
          f"{len(discovered)} discovered items, {len(with_value)}/{len(discovered) + len(polled)} with a value, "
          f"{len(unsupported)} unsupported")
    missing = [i["key_"] for i in discovered + polled if i["lastclock"] == "0"]
    if 0 < len(missing) <= 5:
        print(f"    no value yet: {', '.join(missing)}")
    for i in unsupported:
        # A calculated item is unsupported until its inputs have values.
        print(f"    unsupported for now: {i['key_']}: {i['error']}")
    if not unsupported and tunnels and len(discovered) == tunnels * len(prototypes) and len(with_value) == len(discovered) + len(polled):
        break
else:
    raise SystemExit("discovery or values incomplete within 300 s")

print(f"\nDISCOVERED {tunnels} tunnels x {len(prototypes)} item prototypes = {len(discovered)} items, all with values")
by_tunnel = {}
for i in discovered:
    by_tunnel.setdefault(i["name"].split(":")[0], {})[i["key_"].split("[")[0]] = i["lastvalue"]
cols = ["vti.if.cause", "vti.if.outsa", "vti.if.hardexpiry", "vti.if.cat.carrier", "vti.if.cat.toobig"]
print(f"{'tunnel':10} " + " ".join(f"{c[7:]:>14}" for c in cols))
for name in sorted(by_tunnel):
    print(f"{name:10} " + " ".join(f"{by_tunnel[name].get(c, '-'):>14}" for c in cols))
print("\ntemplate items:")
for i in sorted(polled, key=lambda i: i["key_"]):
    print(f"  {i['key_']:22} {i['lastvalue']}")
problems = call("trigger.get", {"hostids": host, "only_true": True, "filter": {"value": 1},
                                "expandDescription": True, "output": ["description", "priority"]})
print(f"\nproblems now ({len(problems)}):")
for p in problems:
    print(f"  [{p['priority']}] {p['description']}")
