#!/usr/bin/python3
"""A pass_persist handler serving a table of Counter64s, the way VyOS users
extend snmpd today (snmpd.conf: `pass_persist OID /path/this.py OID ROWS COLS`).

Serves OID.1.1.COL.ROW for COL in 2..COLS+1 and ROWS rows indexed 100..,
values computed on demand from the row, the column and the time (no
per-request table copy; GetNext is a bisect over the sorted row indexes),
i.e. a reasonably efficient script, not a strawman. Used by bench/snmp_walk.sh.
"""
import bisect
import sys
import time


def main():
    base = tuple(int(x) for x in sys.argv[1].strip(".").split("."))
    rows = list(range(100, 100 + int(sys.argv[2])))
    cols = list(range(2, 2 + int(sys.argv[3])))
    entry = base + (1, 1)
    n = len(entry)
    start = int(time.time())
    out = sys.stdout

    def value(col, row):
        return (row * 1000003 + col * 7919 + (int(time.time()) - start) * row) % (1 << 63)

    def reply(col, row):
        out.write(".%s.%d.%d\ncounter64\n%d\n" % (".".join(map(str, entry)), col, row, value(col, row)))

    def get(oid):
        if len(oid) == n + 2 and oid[:n] == entry:
            col, row = oid[n], oid[n + 1]
            i = bisect.bisect_left(rows, row)
            if col in cols and i < len(rows) and rows[i] == row:
                return reply(col, row)
        out.write("NONE\n")

    def getnext(oid):
        if oid < entry:
            return reply(cols[0], rows[0])
        if oid[:n] != entry:
            return out.write("NONE\n")
        rest = oid[n:]
        if not rest:
            return reply(cols[0], rows[0])
        col = rest[0]
        ci = bisect.bisect_left(cols, col)
        if ci < len(cols) and cols[ci] == col:
            # Same column: the first row whose index sorts after the rest.
            key = rest[1:]
            ri = bisect.bisect_right(rows, key[0]) if key else 0
            if ri < len(rows):
                return reply(col, rows[ri])
            ci += 1
        if ci < len(cols):
            return reply(cols[ci], rows[0])
        out.write("NONE\n")

    for line in sys.stdin:
        cmd = line.strip()
        if cmd == "PING":
            out.write("PONG\n")
        elif cmd in ("get", "getnext"):
            oid = tuple(int(x) for x in sys.stdin.readline().strip().strip(".").split(".") if x)
            (get if cmd == "get" else getnext)(oid)
        elif cmd == "set":
            sys.stdin.readline()
            sys.stdin.readline()
            out.write("not-writable\n")
        elif cmd == "":
            break
        out.flush()


if __name__ == "__main__":
    main()
