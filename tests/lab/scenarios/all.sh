#!/bin/sh
# The lab's one scenario per boot: runs the parts in order, each from a clean slate.
#
# Parts: /lab/scenarios/<part>.sh, run by `sh` in a child process (fd 3 = results), every
# section it writes named `<part>.<name>`. The part list comes from the kernel command line
# (`lab.parts=agent,faults`, set by run.sh --parts / VTI_LAB_PARTS), else DEFAULT_PARTS.
# A part whose script does not exist is skipped, and says so. lab_reset runs before and
# after each part. A part gets at most lab.part_timeout seconds (default 600).
#
# Sections written here: `all.parts` (the list), then per part `all.<part>`: body
# "skipped: ..." (rc 0) or "rc=N seconds=S" with rc = the part's exit code (143 = killed
# at its time limit). Exits 1 if any part failed. tests/lab.rs checks all of it.
#
# To add a part: write tests/lab/scenarios/<part>.sh, add it to DEFAULT_PARTS below, and
# its host-side check tests/lab/checks/<part>.rs to PARTS in tests/lab.rs.
# shellcheck source=../guest/lib.sh disable=SC1091
. /lab/lib.sh

DEFAULT_PARTS="tunnels collect agent faults alarms ike"

cmdline_value() { # NAME — value of NAME=... on the kernel command line
    tr ' ' '\n' </proc/cmdline | sed -n "s/^$1=//p" | tail -n1
}

parts=$(cmdline_value lab.parts | tr ',' ' ')
[ -n "$parts" ] || parts=$DEFAULT_PARTS
limit=$(cmdline_value lab.part_timeout)
[ -n "$limit" ] || limit=600
section all.parts echo "$parts"

failed=0
for part in $parts; do
    script=/lab/scenarios/$part.sh
    if [ ! -f "$script" ]; then
        log "part $part: no $script, skipped"
        section "all.$part" echo "skipped: no scenario script $script"
        continue
    fi
    lab_reset
    log "===== part $part ====="
    t0=$(cut -d' ' -f1 /proc/uptime)
    timeout "$limit" sh "$script"
    rc=$?
    t1=$(cut -d' ' -f1 /proc/uptime)
    lab_reset
    secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
    log "===== part $part: rc=$rc after ${secs}s ====="
    section_begin "all.$part"
    echo "rc=$rc seconds=$secs" >&3
    [ "$rc" = 143 ] && echo "killed after the part time limit of ${limit}s" >&3
    section_end "$rc"
    [ "$rc" = 0 ] || failed=1
done
exit $failed
