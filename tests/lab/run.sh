#!/usr/bin/env bash
# Boot one Debian cloud kernel under QEMU with the lab initramfs, run one scenario in the
# guest, collect the results.
#
#   tests/lab/run.sh --kernel 6.1|6.12 --agent BIN --scenario SCRIPT --out DIR
#                    [--extra-bin BIN]... [--parts "PART..."] [--part-timeout SECS]
#                    [--timeout SECS] [--accel auto|kvm|tcg] [--mem MB] [--verbose]
#                    [--append "k=v ..."]
#
# --extra-bin: more programs for the guest's /usr/local/bin (same file name), e.g. the
# collect_once example. --parts / --part-timeout: passed on the kernel command line as
# lab.parts=a,b / lab.part_timeout=N for scenarios/all.sh (the part list and the time
# limit per part). --append: more kernel command-line words, e.g. parameters a bench part
# reads from /proc/cmdline (`lab.bench_tunnels=10000`).
#
# DIR gets: console.log (ttyS0: kernel + scenario stdout/stderr), results.txt (ttyS1:
# "=== BEGIN name ===" ... "=== END name rc=N ===" sections, then "=== DONE rc=N ..."),
# qemu.log, initramfs.cpio and meta (kernel, accel, seconds, status).
# Exit: 0 scenario passed; 1 scenario exited non-zero (results complete); 3 boot failure,
# crash or timeout (console tail printed); 2 usage or host setup error.
# Env: VTI_LAB_ACCEL (default for --accel, itself defaulting to auto), VTI_LAB_CACHE.
#
# --accel auto uses KVM only if a probe guest boots under it: /dev/kvm can exist and open
# while every guest dies at once with "KVM internal error ... emulation failure" (as on
# this project's nested-virtualisation machines, where QEMU then pauses the guest instead
# of exiting). The verdict is cached per host in the cache directory.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cache=${VTI_LAB_CACHE:-$repo/.lab-cache}
series='' agent='' scenario='' out='' timeout_s=600 accel=${VTI_LAB_ACCEL:-auto} mem=512 verbose=0
parts='' part_timeout='' extra=() more_append=''
while [ $# -gt 0 ]; do
    case $1 in
        --extra-bin) extra+=(--extra-bin "$2"); shift 2 ;;
        --parts) parts=$2; shift 2 ;;
        --part-timeout) part_timeout=$2; shift 2 ;;
        --append) more_append="$more_append $2"; shift 2 ;;
        --kernel) series=$2; shift 2 ;;
        --agent) agent=$2; shift 2 ;;
        --scenario) scenario=$2; shift 2 ;;
        --out) out=$2; shift 2 ;;
        --timeout) timeout_s=$2; shift 2 ;;
        --accel) accel=$2; shift 2 ;;
        --mem) mem=$2; shift 2 ;;
        --verbose) verbose=1; shift ;;
        *) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
log() { echo "lab[$series]: $*" >&2; }
if [ -z "$series" ] || [ -z "$agent" ] || [ -z "$scenario" ] || [ -z "$out" ]; then
    echo "usage: run.sh --kernel 6.1|6.12 --agent BIN --scenario SCRIPT --out DIR [--timeout SECS] [--accel auto|kvm|tcg]" >&2
    exit 2
fi
case $accel in auto|kvm|tcg) ;; *) log "ERROR: --accel must be auto, kvm or tcg"; exit 2 ;; esac
qemu=$(command -v qemu-system-x86_64 || true)
if [ -z "$qemu" ]; then
    log "ERROR: qemu-system-x86_64 not found; install with tests/lab/install-deps.sh (apt-get install -y qemu-system-x86)"
    exit 2
fi

t0=$(date +%s.%N)
mkdir -p "$out"
out=$(cd "$out" && pwd)
rm -f "$out"/{console.log,results.txt,qemu.log,meta}

kdir=$("$here/fetch-kernel.sh" "$series" | tail -n1) || { log "ERROR: fetching kernel $series failed"; exit 2; }
kver=$(cat "$kdir/version")
"$here/build-initramfs.sh" --kernel-dir "$kdir" --agent "$agent" --scenario "$scenario" \
    "${extra[@]}" --out "$out/initramfs.cpio" || { log "ERROR: building the initramfs failed"; exit 2; }

append="console=ttyS0 panic=-1 oops=panic rdinit=/init"
[ "$verbose" = 1 ] || append="$append quiet"
parts=$(echo "$parts" | tr -s ' ,' ',' | sed 's/^,//; s/,$//')
[ -z "$parts" ] || append="$append lab.parts=$parts"
[ -z "$part_timeout" ] || append="$append lab.part_timeout=$part_timeout"
[ -z "$more_append" ] || append="$append${more_append}"

qpid=''
# shellcheck disable=SC2317 # called from the traps
cleanup() { [ -z "$qpid" ] || kill "$qpid" 2>/dev/null || true; }
trap cleanup EXIT
trap 'cleanup; exit 130' INT TERM

# boot ACCEL DIR TIMEOUT [APPEND...] — run QEMU until it exits; console.log, results.txt
# and qemu.log in DIR. Sets qrc: QEMU's exit code, 124/137 timed out, 99 KVM failed.
boot() {
    local accel=$1 dir=$2 limit=$3 cpu=max
    shift 3
    [ "$accel" = kvm ] && cpu=host
    rm -f "$dir"/{console.log,results.txt,qemu.log}
    timeout -k 10 "$limit" "$qemu" \
        -accel "$accel" -cpu "$cpu" -machine pc -smp 1 -m "$mem" \
        -nodefaults -no-user-config -display none -nic none -no-reboot \
        -kernel "$kdir/vmlinuz" -initrd "$out/initramfs.cpio" -append "$append $*" \
        -chardev file,id=con,path="$dir/console.log" -serial chardev:con \
        -chardev file,id=res,path="$dir/results.txt" -serial chardev:res \
        </dev/null >"$dir/qemu.log" 2>&1 &
    qpid=$!
    while kill -0 "$qpid" 2>/dev/null; do
        if [ "$accel" = kvm ] && grep -q 'KVM internal error' "$dir/qemu.log" 2>/dev/null; then
            kill "$qpid" 2>/dev/null; wait "$qpid" 2>/dev/null || true
            qpid='' qrc=99
            return
        fi
        sleep 0.5
    done
    set +e
    wait "$qpid"
    qrc=$?
    set -e
    qpid=''
}

# kvm_usable — cached verdict of a probe boot (init exits at once with lab.probe).
kvm_usable() {
    [ -r /dev/kvm ] && [ -w /dev/kvm ] || return 1
    local key verdict probe
    key=$( { uname -r; "$qemu" --version | head -n1; grep -m1 'model name' /proc/cpuinfo; } |
           sha256sum | cut -c1-16)
    verdict=$cache/accel-probe-$key
    mkdir -p "$cache"
    (
        flock 9
        [ -f "$verdict" ] && exit 0
        probe=$(mktemp -d)
        boot kvm "$probe" 15 lab.probe
        if grep -q '^=== DONE rc=0' "$probe/results.txt" 2>/dev/null; then
            echo kvm > "$verdict"
        else
            echo tcg > "$verdict"
            log "KVM probe failed (qemu rc=$qrc: $(head -n1 "$probe/qemu.log")); using TCG"
        fi
        rm -rf "$probe"
    ) 9>"$cache/accel-probe.lock"
    [ "$(cat "$verdict")" = kvm ]
}

if [ "$accel" = auto ]; then
    if kvm_usable; then accel=kvm; else accel=tcg; fi
fi

log "booting $kver ($accel, timeout ${timeout_s}s)"
t1=$(date +%s.%N)
boot "$accel" "$out" "$timeout_s"
t2=$(date +%s.%N)
boot_s=$(awk "BEGIN{printf \"%.1f\", $t2 - $t1}")
total_s=$(awk "BEGIN{printf \"%.1f\", $t2 - $t0}")

done_line=$(grep -a '^=== DONE rc=' "$out/results.txt" 2>/dev/null | tail -n1 || true)
if [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
    status="timeout after ${timeout_s}s"
elif [ "$qrc" = 99 ]; then
    status="KVM internal error (use --accel tcg)"
elif [ -z "$done_line" ]; then
    status="no DONE marker (qemu rc=$qrc: boot failure or guest crash)"
elif [ "$done_line" != "${done_line#=== DONE rc=0 }" ]; then
    status=ok
else
    status="scenario failed: $done_line"
fi
{
    echo "kernel=$kver"
    echo "accel=$accel"
    echo "qemu_rc=$qrc"
    echo "qemu_seconds=$boot_s"
    echo "total_seconds=$total_s"
    echo "status=$status"
    echo "done=$done_line"
} > "$out/meta"

log "$status; qemu ${boot_s}s, total ${total_s}s ($accel)"
case $status in
    ok) exit 0 ;;
    "scenario failed"*)
        log "console tail:"; tail -n 40 "$out/console.log" >&2 || true
        exit 1 ;;
    *)
        log "qemu output:"; tail -n 20 "$out/qemu.log" >&2 || true
        log "console tail:"; tail -n 60 "$out/console.log" >&2 || true
        exit 3 ;;
esac
