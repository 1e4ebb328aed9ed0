#!/usr/bin/env bash
# Installs the .deb on a real Debian 12 system booted under QEMU (systemd as
# PID 1, the stock snmpd already running) and checks what tests/package.rs
# cannot check on a build host: the hardened unit really runs, with
# CAP_NET_ADMIN reading the SAs, netlink and /proc/net/xfrm_stat working
# under ProtectKernelTunables & co., snmpd's socket opened to the
# vti-agentx group, reload, snmpd restarts, readiness (Type=notify: active
# only once registered), journal priorities, the watchdog, stop, upgrade,
# remove, purge.
#
#   packaging/vm-test.sh --deb PKG.deb [--rootfs DIR] [--out DIR] [--kernel 6.1|6.12]
#                        [--accel tcg|kvm]
#
#   --deb      the package (packaging/build-deb.sh)
#   --rootfs   a `debootstrap --variant=minbase --include=systemd,systemd-sysv,
#              dbus,snmpd,snmp,adduser,iproute2,kmod,udev,procps bookworm DIR`
#              tree to reuse; without it one is made (needs debootstrap and
#              the Debian mirror) and cached in .lab-cache/vm-rootfs
#   --out      results (default target/vm-test): results.txt, console.log
#   --kernel   Debian cloud kernel series from tests/lab/fetch-kernel.sh
#              (default 6.1, Debian 12's own)
#   --accel    tcg (default: nested KVM on the build machines failed with
#              "KVM internal error ... emulation failure") or kvm; also
#              VTI_LAB_ACCEL
#
# Manual (root, KVM or slow TCG, ~1 GB of disk); not part of `cargo test`.
# Exit 0 when every check passed; packaging/README.md records a run.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/.." && pwd)"
deb='' rootfs='' out="$repo/target/vm-test" series=6.1 accel="${VTI_LAB_ACCEL:-tcg}"
while (($#)); do
    case "$1" in
    --deb) deb="$(realpath "$2")"; shift 2 ;;
    --rootfs) rootfs="$(realpath "$2")"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --kernel) series="$2"; shift 2 ;;
    --accel) accel="$2"; shift 2 ;;
    *) echo "usage: vm-test.sh --deb PKG.deb [--rootfs DIR] [--out DIR] [--kernel 6.1|6.12] [--accel tcg|kvm]" >&2; exit 2 ;;
    esac
done
[ -f "$deb" ] || { echo "vm-test.sh: --deb PKG.deb is required" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "vm-test.sh: run as root (debootstrap, image ownership)" >&2; exit 2; }
for tool in qemu-system-x86_64 mkfs.ext4 busybox cpio xz; do
    command -v "$tool" >/dev/null ||
        { echo "vm-test.sh: $tool missing: apt-get install -y qemu-system-x86 e2fsprogs busybox-static cpio xz-utils" >&2; exit 2; }
done
cache="${VTI_LAB_CACHE:-$repo/.lab-cache}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
rm -f "$out"/{results.txt,console.log}

kdir="$("$repo/tests/lab/fetch-kernel.sh" "$series" | tail -n1)"
kver="$(cat "$kdir/version")"

if [ -z "$rootfs" ]; then
    rootfs="$cache/vm-rootfs/bookworm"
    if [ ! -x "$rootfs/lib/systemd/systemd" ]; then
        command -v debootstrap >/dev/null || { echo "vm-test.sh: apt-get install -y debootstrap" >&2; exit 2; }
        rm -rf "$rootfs"
        mkdir -p "$rootfs"
        debootstrap --variant=minbase \
            --include=systemd,systemd-sysv,dbus,snmpd,snmp,adduser,iproute2,kmod,udev,procps \
            bookworm "$rootfs" http://deb.debian.org/debian >&2
    fi
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/vti-vm.XXXXXX")"
trap 'rm -rf "$work"' EXIT
guest="$work/rootfs"
echo "vm-test: preparing the guest ($kver)" >&2
cp -a "$rootfs" "$guest"
rm -rf "$guest/lib/modules"
mkdir -p "$guest/lib/modules"
cp -a "$kdir/root/lib/modules/$kver" "$guest/lib/modules/"
cp "$deb" "$guest/root/vti-agentx.deb"
echo "/dev/vda / ext4 rw,errors=remount-ro 0 1" >"$guest/etc/fstab"
echo vti-vm >"$guest/etc/hostname"
# SNMP access to the whole tree for the checks (Debian's default community
# only sees the system group).
cat >"$guest/etc/snmp/snmpd.conf.d/zz-vm-test.conf" <<'EOF'
view vmtestall included .1
rocommunity vmtest 127.0.0.1 -V vmtestall
EOF
ln -sf /dev/null "$guest/etc/systemd/system/serial-getty@ttyS0.service"
ln -sf /dev/null "$guest/etc/systemd/system/getty@tty1.service"

cat >"$guest/etc/systemd/system/vm-test.service" <<'EOF'
[Unit]
Description=vti-agentx package checks
Wants=snmpd.service
After=snmpd.service systemd-modules-load.service

[Service]
Type=oneshot
ExecStart=/bin/bash /root/vm-test-guest.sh
ExecStopPost=/bin/systemctl --no-block poweroff

[Install]
WantedBy=multi-user.target
EOF
ln -sf /etc/systemd/system/vm-test.service \
    "$guest/etc/systemd/system/multi-user.target.wants/vm-test.service"

cat >"$guest/root/vm-test-guest.sh" <<'GUEST'
#!/bin/bash
# Runs once at boot; results on ttyS1.
set -u
exec 3>/dev/ttyS1
ROOT=1.3.6.1.4.1.8072.9999.9999.2741
G=$ROOT.1.1
failed=0
say() { echo "$*" >&3; }
show() { say "--- $*"; "$@" >&3 2>&1; }
check() {
    local name=$1
    shift
    if "$@" >/tmp/check.out 2>&1; then
        say "PASS $name"
    else
        say "FAIL $name"
        sed 's/^/    /' /tmp/check.out >&3
        failed=1
    fi
}
get() { snmpget -v2c -c vmtest -On -Oqv 127.0.0.1 "$1" 2>/dev/null; }
wait_for() {
    local n=$1
    shift
    for _ in $(seq 1 "$n"); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 1
    done
    return 1
}
registered() { [ "$(get $G.3.0)" != "" ] && get $G.3.0 | grep -q '^"'; }
pid() { systemctl show -p MainPID --value vti-agentx; }

say "=== kernel $(uname -r), $(systemctl --version | head -n1)"
check snmpd-running systemctl is-active snmpd
show stat -c '%A %U:%G %n' /var/agentx /var/agentx/master

# A vti tunnel with two SAs and a policy, for the SA checks.
modprobe dummy; modprobe ip_vti; modprobe xfrm_user; modprobe esp4
ip link add ul0 type dummy && ip addr add 192.0.2.1/24 dev ul0 && ip link set ul0 up
ip link add vti1 type vti local 192.0.2.1 remote 192.0.2.2 key 11 && ip link set vti1 up
K=0x0123456789abcdef0123456789abcdef
for dir in "192.0.2.1 192.0.2.2 0x1001" "192.0.2.2 192.0.2.1 0x1002"; do
    # shellcheck disable=SC2086 # split on purpose
    set -- $dir
    ip xfrm state add src "$1" dst "$2" proto esp spi "$3" reqid 11 mode tunnel mark 11 \
        auth-trunc 'hmac(sha256)' ${K}${K#0x} 128 enc 'cbc(aes)' $K
done
ip xfrm policy add dir out src 0.0.0.0/0 dst 0.0.0.0/0 mark 11 \
    tmpl src 192.0.2.1 dst 192.0.2.2 proto esp reqid 11 mode tunnel
show ip -d link show vti1
show ip xfrm state count

say "=== install"
show env DEBIAN_FRONTEND=noninteractive dpkg -i /root/vti-agentx.deb
check installed dpkg-query -W -f='${Status}\n' vti-agentx
check user id vti-agentx
check unit-enabled systemctl is-enabled vti-agentx
check unit-active wait_for 20 systemctl is-active vti-agentx
show stat -c '%A %U:%G %n' /var/agentx /var/agentx/master
check agentx-dir-traversable sh -c '[ $((0$(stat -c %a /var/agentx) & 1)) = 1 ]' 
check socket-group test "$(stat -c '%a %U:%G' /var/agentx/master)" = "660 root:vti-agentx"
check registered wait_for 30 registered
check version test "$(get $G.3.0)" = "\"vti-agentx $(dpkg-query -W -f='${Version}' vti-agentx | cut -d- -f1)\""
check xfrm-available-cap-net-admin test "$(get $G.6.0)" = 1
check tunnel-count test "$(get $G.4.0)" -ge 1
check sa-count test "$(get $G.5.0)" -eq 2
check poll-failures-zero test "$(get $G.7.0)" -eq 0
check xfrm-stat-rows test "$(snmpwalk -v2c -c vmtest -On 127.0.0.1 $ROOT.1.2 | wc -l)" -ge 20
show snmpwalk -v2c -c vmtest -On 127.0.0.1 $G
p=$(pid)
show grep -E '^(Uid|Gid|Groups|CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs|Seccomp):' /proc/"$p"/status
check runs-as-vti-agentx test "$(stat -c %U /proc/"$p")" = vti-agentx
check cap-eff-net-admin-only grep -q '^CapEff:.*0000000000001000$' /proc/"$p"/status
check cap-bnd-net-admin-only grep -q '^CapBnd:.*0000000000001000$' /proc/"$p"/status
check seccomp-filter grep -q '^Seccomp:[[:space:]]*2$' /proc/"$p"/status
check sees-host-netns test "$(readlink /proc/"$p"/ns/net)" = "$(readlink /proc/1/ns/net)"
show systemd-analyze security --no-pager vti-agentx

say "=== reload (SIGHUP)"
printf 'poll_interval_secs = 7\n' >>/etc/vti-agentx/config.toml
check reload systemctl reload vti-agentx
check reload-applied wait_for 30 sh -c "[ \"\$(snmpget -v2c -c vmtest -On -Oqv 127.0.0.1 $G.1.0)\" = 7 ]"
check same-pid-after-reload test "$(pid)" = "$p"

say "=== snmpd restart"
check snmpd-restart systemctl restart snmpd
check re-registered wait_for 30 registered
check socket-group-after-restart test "$(stat -c '%G' /var/agentx/master)" = vti-agentx
check same-pid-after-snmpd-restart test "$(pid)" = "$p"

say "=== Type=notify: active only once registered; warnings at priority warning"
check snmpd-stop systemctl stop snmpd
# Masked for the moment: the unit's Wants=snmpd.service would start it again
# with the restart below.
check snmpd-masked systemctl mask --runtime snmpd
check restart-queued systemctl --no-block restart vti-agentx
# This start's own journal lines: an earlier run of the agent may have
# logged the same warning.
inv() { systemctl show -p InvocationID --value vti-agentx; }
this_start() { journalctl -b "_SYSTEMD_INVOCATION_ID=$(inv)" "$@"; }
warned() { this_start -p warning..warning -o cat | grep -q "cannot register with master"; }
check new-process wait_for 30 sh -c "p=\$(systemctl show -p MainPID --value vti-agentx); [ \$p != 0 ] && [ \$p != $p ]"
check warning-at-priority-4 wait_for 30 warned
show this_start -o verbose --output-fields=PRIORITY,MESSAGE
check info-not-at-warning sh -c "! journalctl -b _SYSTEMD_INVOCATION_ID=$(inv) -p warning -o cat | grep -q 'vti-agentx starting'"
check info-at-priority-6 sh -c "journalctl -b _SYSTEMD_INVOCATION_ID=$(inv) -p info..info -o cat | grep -q 'vti-agentx starting'"
check no-raw-prefix sh -c "! journalctl -b _SYSTEMD_INVOCATION_ID=$(inv) -o cat | grep -q '^<[0-7]>'"
# Well past the first attempt: still not ready, not failed either.
sleep 5
show systemctl show -p ActiveState -p SubState -p MainPID vti-agentx
check activating-without-master test "$(systemctl is-active vti-agentx)" = activating
check snmpd-unmasked systemctl unmask --runtime snmpd
check snmpd-start systemctl start snmpd
check active-after-registration wait_for 60 sh -c '[ "$(systemctl is-active vti-agentx)" = active ]'
show systemctl show -p ActiveState -p SubState -p ActiveEnterTimestampMonotonic vti-agentx
show this_start -o short-monotonic
check registered-when-active registered
check watchdog-set test "$(systemctl show -p WatchdogUSec --value vti-agentx)" = 30s
# The poll loop pings: the last ping's time moves on (poll interval 7 s).
ping_at() { systemctl show -p WatchdogTimestampMonotonic --value vti-agentx; }
w=$(ping_at)
check watchdog-pinged wait_for 30 sh -c "[ \"\$(systemctl show -p WatchdogTimestampMonotonic --value vti-agentx)\" != \"$w\" ]"
p=$(pid)

say "=== upgrade (same version again: postinst configure with \$2 set)"
show env DEBIAN_FRONTEND=noninteractive dpkg -i --force-confold /root/vti-agentx.deb
check active-after-upgrade wait_for 20 systemctl is-active vti-agentx
check conffile-edit-kept grep -q '^poll_interval_secs = 7' /etc/vti-agentx/config.toml
check registered-after-upgrade wait_for 30 registered

say "=== stop"
check stop systemctl stop vti-agentx
check clean-exit test "$(systemctl show -p ExecMainStatus --value vti-agentx)" = 0
show journalctl -b -u vti-agentx --no-pager -o cat
check no-errors-in-journal sh -c '! journalctl -b -u vti-agentx -o cat | grep -q "ERROR"'
check no-err-priority-in-journal sh -c '! journalctl -b -u vti-agentx -p err -o cat | grep -q .'
check sigterm-logged sh -c 'journalctl -b -u vti-agentx -o cat | grep -q SIGTERM'

say "=== remove, purge"
show dpkg -r vti-agentx
check removed-unit-gone sh -c '! systemctl cat vti-agentx >/dev/null 2>&1'
check conffiles-kept test -f /etc/vti-agentx/config.toml -a -f /etc/snmp/snmpd.conf.d/vti-agentx.conf
show dpkg -P vti-agentx
check purged sh -c '! test -e /etc/vti-agentx && ! test -e /etc/snmp/snmpd.conf.d/vti-agentx.conf'
check snmpd-still-running systemctl is-active snmpd
check snmpd-not-failed sh -c '! systemctl is-failed --quiet snmpd'
show systemctl list-units --failed --no-pager

say "=== DONE rc=$failed"
GUEST

# Boot: a busybox initramfs loads virtio and mounts /dev/vda, then systemd.
echo "vm-test: building images" >&2
img="$work/root.img"
mkfs.ext4 -q -F -L vti-vm -d "$guest" "$img" 2G
ird="$work/initrd"
mkdir -p "$ird"/{bin,dev,proc,sys,newroot,modules}
cp "$(command -v busybox)" "$ird/bin/busybox"
# Built into some kernels (6.12's virtio core), compressed modules in others
# (6.12's .ko.xz): the initramfs gets the loadable ones, uncompressed.
mods="$kdir/root/lib/modules/$kver"
for m in virtio/virtio virtio/virtio_ring virtio/virtio_pci_legacy_dev \
    virtio/virtio_pci_modern_dev virtio/virtio_pci block/virtio_blk; do
    grep -qx "kernel/drivers/$m.ko" "$mods/modules.builtin" && continue
    ko="$mods/kernel/drivers/$m.ko" dest="$ird/modules/${m#*/}.ko"
    if [ -f "$ko" ]; then cp "$ko" "$dest"
    elif [ -f "$ko.xz" ]; then xz -dc "$ko.xz" >"$dest"
    elif [ -f "$ko.zst" ]; then zstd -qdc "$ko.zst" >"$dest"
    else echo "vm-test.sh: $m neither built in nor a module of $kver" >&2; exit 1
    fi
done
cat >"$ird/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci virtio_blk; do
    [ -f /modules/$m.ko ] && insmod /modules/$m.ko
done
i=0
while [ ! -b /dev/vda ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
mount -t ext4 -o rw /dev/vda /newroot || { echo "no root"; poweroff -f; }
umount /proc /sys
mount --move /dev /newroot/dev
exec switch_root /newroot /lib/systemd/systemd
EOF
chmod 0755 "$ird/init"
(cd "$ird" && find . | cpio -o -H newc --quiet) >"$work/initrd.cpio"

case "$accel" in
kvm) cpu=host ;;
tcg | auto) accel=tcg cpu=max ;;
*) echo "vm-test.sh: --accel tcg|kvm" >&2; exit 2 ;;
esac
echo "vm-test: booting ($accel)" >&2
timeout -k 10 900 qemu-system-x86_64 -accel "$accel" -cpu "$cpu" -machine pc -smp 2 -m 1024 \
    -nodefaults -no-user-config -display none -nic none -no-reboot \
    -kernel "$kdir/vmlinuz" -initrd "$work/initrd.cpio" \
    -append "console=ttyS0 panic=-1 rdinit=/init systemd.show_status=0" \
    -drive file="$img",format=raw,if=virtio \
    -chardev file,id=con,path="$out/console.log" -serial chardev:con \
    -chardev file,id=res,path="$out/results.txt" -serial chardev:res \
    </dev/null >"$out/qemu.log" 2>&1 || true

cat "$out/results.txt"
grep -q '^=== DONE rc=0' "$out/results.txt" 2>/dev/null
