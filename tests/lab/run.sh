#!/usr/bin/env bash
# Boot one Debian cloud kernel under QEMU with the lab initramfs, run one scenario in the
# guest, collect the results.
#
#   tests/lab/run.sh --kernel 6.1|6.12 --agent BIN --scenario SCRIPT --out DIR
#                    [--timeout SECS] [--accel auto|kvm|tcg] [--mem MB] [--verbose]
#
# DIR gets: console.log (ttyS0: kernel + scenario stdout/stderr), results.txt (ttyS1:
# "=== BEGIN name ===" ... "=== END name rc=N ===" sections, then "=== DONE rc=N ..."),
# initramfs.cpio and meta (kernel, accel, wall seconds, exit status).
# Exit: 0 scenario passed; 1 scenario exited non-zero (results complete); 3 boot failure,
# crash or timeout (console tail printed); 2 usage or host setup error.
# Env: VTI_LAB_ACCEL (default for --accel), VTI_LAB_CACHE (see fetch-kernel.sh).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
series='' agent='' scenario='' out='' timeout_s=600 accel=${VTI_LAB_ACCEL:-auto} mem=512 verbose=0
while [ $# -gt 0 ]; do
    case $1 in
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
qemu=$(command -v qemu-system-x86_64 || true)
if [ -z "$qemu" ]; then
    log "ERROR: qemu-system-x86_64 not found; install with: apt-get install -y qemu-system-x86"
    exit 2
fi

t0=$(date +%s.%N)
mkdir -p "$out"
out=$(cd "$out" && pwd)
rm -f "$out"/{console.log,results.txt,meta}

kdir=$("$here/fetch-kernel.sh" "$series" | tail -n1) || { log "ERROR: fetching kernel $series failed"; exit 2; }
kver=$(cat "$kdir/version")
"$here/build-initramfs.sh" --kernel-dir "$kdir" --agent "$agent" --scenario "$scenario" \
    --out "$out/initramfs.cpio" || { log "ERROR: building the initramfs failed"; exit 2; }

kvm_works() {
    [ -r /dev/kvm ] && [ -w /dev/kvm ] || return 1
    echo quit | timeout 20 "$qemu" -accel kvm -machine none -nodefaults -display none \
        -monitor stdio >/dev/null 2>&1
}
case $accel in
    auto) if kvm_works; then accel=kvm; else accel=tcg; fi ;;
    kvm|tcg) ;;
    *) log "ERROR: --accel must be auto, kvm or tcg"; exit 2 ;;
esac
if [ "$accel" = kvm ]; then cpu=host; else cpu=max; fi

append="console=ttyS0 panic=-1 oops=panic rdinit=/init"
[ "$verbose" = 1 ] || append="$append quiet"

log "booting $kver ($accel, timeout ${timeout_s}s)"
t1=$(date +%s.%N)
set +e
timeout -k 10 "$timeout_s" "$qemu" \
    -accel "$accel" -cpu "$cpu" -machine pc -smp 1 -m "$mem" \
    -nodefaults -no-user-config -display none -nic none -no-reboot \
    -kernel "$kdir/vmlinuz" -initrd "$out/initramfs.cpio" -append "$append" \
    -chardev file,id=con,path="$out/console.log" -serial chardev:con \
    -chardev file,id=res,path="$out/results.txt" -serial chardev:res \
    </dev/null >"$out/qemu.log" 2>&1
qrc=$?
set -e
t2=$(date +%s.%N)
boot_s=$(awk "BEGIN{printf \"%.1f\", $t2 - $t1}")
total_s=$(awk "BEGIN{printf \"%.1f\", $t2 - $t0}")

done_line=$(grep -a '^=== DONE rc=' "$out/results.txt" 2>/dev/null | tail -n1 || true)
status=ok
if [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
    status="timeout after ${timeout_s}s"
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
