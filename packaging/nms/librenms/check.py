#!/usr/bin/env python3
"""Checks the LibreNMS definition (what make_definition.py writes to
ipsec-vti.yaml) against the rules of LibreNMS's published discovery schema
(misc/discovery_schema.json in librenms/librenms) for the parts it uses:
sensors of class state (oid, num_oid, descr and states required; each state
with value, descr, graph and generic) and count (oid, num_oid, descr
required), only the keys the schema allows, and num_oid of the schema's
form. Also checks that every OID is the one of the named MIB object.

    check.py                 # the rules above, Python standard library only
    check.py --schema FILE   # also validate with the schema itself
                             # (needs python3-jsonschema)

The schema is not part of this project; take it from a LibreNMS checkout.
It does not constrain the count class (it lists no such key under sensors),
so with --schema the count entries are validated against its generic
sensor definition as well."""

import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import make_definition  # noqa: E402
from mib import Mib  # noqa: E402

# The keys the schema allows, per sensor entry.
COMMON = {"oid", "value", "group", "low_limit", "low_warn_limit", "warn_limit", "high_limit",
          "skip_value_lt", "skip_value_gt", "num_oid", "descr", "index", "user_func", "skip_values",
          "snmp_flags", "snmp_bulk", "entPhysicalIndex", "entPhysicalIndex_measured", "snmp_no_Ih_flag"}
STATE_KEYS = COMMON | {"states", "state_name"}
SENSOR_KEYS = COMMON | {"divisor", "multiplier", "rrd_type"}
STATE_NUM_OID = re.compile(r"^(\.\d+)+(\.?\{\{ \$index \}\})?(\.\d+)*$")
SENSOR_NUM_OID = re.compile(r"^(\.\d+)+\.?\{\{ \$index \}\}(\.\d+)*$")


def rules(doc):
    errors = []
    mib = Mib()

    def entry(where, e, keys, required, pattern):
        for k in sorted(set(e) - keys):
            errors.append(f"{where}: key {k!r} not allowed")
        for k in required:
            if k not in e:
                errors.append(f"{where}: {k!r} missing")
        if not pattern.match(e.get("num_oid", "")):
            errors.append(f"{where}: num_oid {e.get('num_oid')!r} not of the schema's form")
        for k in ("oid", "value", "descr", "group", "state_name", "rrd_type"):
            if k in e and not isinstance(e[k], str):
                errors.append(f"{where}: {k} must be a string")
        # Our own consistency: num_oid is the OID of the object in 'value'.
        obj = e.get("value", "").split("::")[-1]
        if e.get("num_oid") != "." + mib.oid(obj) + ".{{ $index }}":
            errors.append(f"{where}: num_oid is not {obj}'s OID")

    if set(doc) - {"mib", "modules"} or "modules" not in doc:
        errors.append("top level: only 'mib' and 'modules' allowed, 'modules' required")
    sensors = doc["modules"]["sensors"]
    if not sensors.get("state", {}).get("data"):
        errors.append("no state sensors")
    for i, e in enumerate(sensors.get("state", {}).get("data", [])):
        where = f"state[{i}]"
        entry(where, e, STATE_KEYS, ["descr", "num_oid", "oid", "states"], STATE_NUM_OID)
        for j, s in enumerate(e.get("states", [])):
            if set(s) != {"value", "descr", "graph", "generic"}:
                errors.append(f"{where}.states[{j}]: keys must be value, descr, graph, generic")
            if not all(isinstance(s.get(k), int) for k in ("value", "graph", "generic")):
                errors.append(f"{where}.states[{j}]: value, graph, generic must be integers")
            if s.get("generic") not in (0, 1, 2, 3):
                errors.append(f"{where}.states[{j}]: generic must be 0..3")
    for cls, body in sensors.items():
        if cls == "state":
            continue
        if set(body) - {"data", "options"} or not body.get("data"):
            errors.append(f"{cls}: only data/options, data required")
        for i, e in enumerate(body.get("data", [])):
            entry(f"{cls}[{i}]", e, SENSOR_KEYS, ["descr", "num_oid", "oid"], SENSOR_NUM_OID)
    return errors


def with_schema(doc, path):
    import json
    import jsonschema
    schema = json.loads(Path(path).read_text())
    jsonschema.validate(doc, schema)
    sensor = dict(schema["definitions"]["sensor"], definitions=schema["definitions"])
    for cls, body in doc["modules"]["sensors"].items():
        if cls not in schema["properties"]["modules"]["properties"]["sensors"]["properties"]:
            jsonschema.validate(body, sensor)
            print(f"  {cls}: not in the schema's sensor list; validated as its generic sensor")


if __name__ == "__main__":
    doc = make_definition.build()
    errors = rules(doc)
    for e in errors:
        print(f"ipsec-vti.yaml: {e}", file=sys.stderr)
    if errors:
        sys.exit(1)
    n = sum(len(b["data"]) for b in doc["modules"]["sensors"].values())
    print(f"LibreNMS definition: {n} sensor entries follow the discovery schema's rules")
    if len(sys.argv) == 3 and sys.argv[1] == "--schema":
        with_schema(doc, sys.argv[2])
        print(f"  and validate against {sys.argv[2]}")
