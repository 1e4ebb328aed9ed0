#!/usr/bin/python3
"""Summarize bench/snmp_walk.sh raw samples into a markdown table.

Input TSV: N peer round K varbinds elapsed_us agent_ticks master_ticks rss_kb
failures utime_ticks stime_ticks load1 (one line per sample of K walks).
Prints medians over rounds.
"""
import statistics
import sys

LABEL = {
    "ours": "ours (vti-agentx, AgentX)",
    "c-subagent": "net-snmp C subagent (snmpd -X, ifTable)",
    "pass_persist": "pass_persist (python3)",
    "native": "snmpd native ifTable (floor)",
}
ORDER = ["ours", "c-subagent", "pass_persist", "native"]


def main():
    path, clk = sys.argv[1], int(sys.argv[2])
    data = {}
    for line in open(path):
        f = line.rstrip("\n").split("\t")
        if len(f) < 10:
            continue
        n, peer, _, k, vb, us, at, mt, rss, fails = f[:10]
        k, vb, us, at, rss, fails = int(k), int(vb), int(us), int(at), int(rss), int(fails)
        ut, st, load = (int(f[10]), int(f[11]), float(f[12])) if len(f) >= 13 else (0, 0, 0.0)
        if vb == 0:
            continue
        d = data.setdefault((int(n), peer), {"walk": [], "cpu": [], "ucpu": [], "scpu": [], "mcpu": [], "rss": [], "vb": [], "load": [], "fails": 0, "n": 0})
        d["walk"].append(us / vb)
        d["cpu"].append(at * 1e6 / clk / vb)
        d["ucpu"].append(ut * 1e6 / clk / vb)
        d["scpu"].append(st * 1e6 / clk / vb)
        d["load"].append(load)
        if mt != "-":
            d["mcpu"].append(int(mt) * 1e6 / clk / vb)
        d["rss"].append(rss / 1024)
        d["vb"].append(vb // k)
        d["fails"] += fails
        d["n"] += 1
    med = statistics.median
    print("| N | peer | varbinds/walk | walk µs/varbind | serving process CPU µs/varbind (user + sys) | master CPU µs/varbind | RSS MB | ours ÷ peer (walk) | ours ÷ peer (CPU) | samples (failed walks), load1 |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for n in sorted({k[0] for k in data}):
        ours = data.get((n, "ours"))
        for peer in ORDER:
            d = data.get((n, peer))
            if not d:
                continue
            walk, cpu = med(d["walk"]), med(d["cpu"])
            mcpu = "%.1f" % med(d["mcpu"]) if d["mcpu"] else "—"
            if ours and peer != "ours":
                rw = "%.2f" % (med(ours["walk"]) / walk)
                rc = "%.2f" % (med(ours["cpu"]) / cpu) if cpu > 0 else "—"
            else:
                rw = rc = "1"
            print("| %d | %s | %d | %.1f | %.2f (%.1f + %.1f) | %s | %.1f | %s | %s | %d (%d), %.1f–%.1f |" % (
                n, LABEL[peer], med(d["vb"]), walk, cpu, med(d["ucpu"]), med(d["scpu"]), mcpu,
                max(d["rss"]), rw, rc, d["n"], d["fails"], min(d["load"]), max(d["load"])))
    print()
    print("Medians over rounds; each sample = K back-to-back walks (≥ TARGET_VB varbinds). "
          "`snmpbulkwalk -v2c -Cr50 -On`. net-snmp 5.9's master sends one AgentX GetNext per GETBULK "
          "repetition, so every AgentX walk (ours, C subagent) pays one master↔subagent round trip per "
          "varbind whatever the subagent does; pass_persist pays one pipe round trip per varbind the same way. "
          "Native: the serving process is snmpd itself (no master hop). "
          "C subagent CPU includes its periodic interface-cache reloads during the walk.")


if __name__ == "__main__":
    main()
