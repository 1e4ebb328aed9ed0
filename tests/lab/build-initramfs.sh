#!/usr/bin/env bash
# Build the guest initramfs for one kernel: a cached, per-kernel base archive (busybox,
# iproute2, ping, kmod, net-snmp, setpriv, strongSwan, kernel modules) followed by a small per-run
# payload archive (/init, guest library, scenario, agent binary). The kernel unpacks
# concatenated newc archives in order, later files overriding earlier ones.
#
#   tests/lab/build-initramfs.sh --kernel-dir DIR --agent BIN --scenario SCRIPT --out FILE
#                                [--extra-bin BIN]...
#
# DIR is what fetch-kernel.sh printed. BIN may be dynamically linked: its libraries
# (ldd) are copied too. The agent becomes /usr/local/bin/vti-agentx; each --extra-bin
# goes to /usr/local/bin under its own file name. Env: VTI_LAB_CACHE (default <repo>/.lab-cache).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cache=${VTI_LAB_CACHE:-$repo/.lab-cache}

kdir='' agent='' scenario='' out='' extra_bins=()
while [ $# -gt 0 ]; do
    case $1 in
        --extra-bin) extra_bins+=("$2"); shift 2 ;;
        --kernel-dir) kdir=$2; shift 2 ;;
        --agent) agent=$2; shift 2 ;;
        --scenario) scenario=$2; shift 2 ;;
        --out) out=$2; shift 2 ;;
        *) echo "build-initramfs: unknown argument $1" >&2; exit 2 ;;
    esac
done
log() { echo "build-initramfs: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }
if [ -z "$kdir" ] || [ -z "$agent" ] || [ -z "$scenario" ] || [ -z "$out" ]; then
    die "usage: build-initramfs.sh --kernel-dir DIR --agent BIN --scenario SCRIPT --out FILE"
fi
[ -f "$kdir/.complete" ] || die "$kdir is not a kernel fetched by fetch-kernel.sh"
[ -x "$agent" ] || die "agent binary $agent not found or not executable"
[ -f "$scenario" ] || die "scenario $scenario not found"
for b in ${extra_bins[@]+"${extra_bins[@]}"}; do
    [ -x "$b" ] || die "extra binary $b not found or not executable"
done
kver=$(cat "$kdir/version")
mods_src=$kdir/root/lib/modules/$kver

# Host programs copied into the guest, with the Debian package providing each.
host_bins=(
    /usr/sbin/ip /usr/sbin/tc            # iproute2 (the real ip: xfrm, -j, -s -s)
    /usr/bin/ping                        # iputils-ping (-M do, -s)
    /usr/bin/kmod                        # kmod (/sbin/modprobe for request_module)
    /usr/bin/setpriv                     # util-linux
    /usr/sbin/snmpd                      # snmpd
    /usr/sbin/snmptrapd                  # snmptrapd (notifications: alarms part, demo)
    /usr/bin/snmpget /usr/bin/snmpgetnext /usr/bin/snmpwalk /usr/bin/snmpbulkwalk  # snmp
    /usr/lib/ipsec/charon                # strongswan-charon (IKE daemon; ike part)
    /usr/sbin/swanctl                    # strongswan-swanctl (VICI client; ike part)
)
# charon's plugins (libstrongswan, libstrongswan-standard-plugins, strongswan-swanctl
# for vici): all of them, ~1.3 MB. The ike part's strongswan.conf names the ones it loads
# (`charon.load`), so no /etc/strongswan.d is shipped.
strongswan_plugins=/usr/lib/ipsec/plugins
strongswan_needed=(openssl kernel-netlink socket-default vici updown nonce random kdf)
missing=()
[ -x /bin/busybox ] || missing+=(busybox-static)
for b in "${host_bins[@]}"; do [ -x "$b" ] || missing+=("$b"); done
for p in "${strongswan_needed[@]}"; do
    [ -f "$strongswan_plugins/libstrongswan-$p.so" ] || missing+=("strongSwan plugin $p")
done
command -v cpio >/dev/null || missing+=(cpio)
command -v depmod >/dev/null || missing+=(kmod)
command -v xz >/dev/null || missing+=(xz-utils)
if [ ${#missing[@]} -gt 0 ]; then
    die "missing on the host: ${missing[*]}; install with tests/lab/install-deps.sh (apt-get install -y busybox-static iproute2 iputils-ping kmod util-linux snmpd snmptrapd snmp strongswan-charon strongswan-swanctl libstrongswan-standard-plugins cpio xz-utils)"
fi

# Modules shipped with their dependencies (resolved here; /init loads the main ones).
# Whole directories are shipped for crypto (the kernel request_module()s algorithms by
# alias when an SA is added) and net/sched (qdiscs for fault scenarios).
modules=(veth ip_vti ip6_vti xfrm_interface esp4 esp6 xfrm_user xfrm4_tunnel xfrm6_tunnel
         ip6_tunnel tunnel4 tunnel6 authenc echainiv seqiv)
mod_dirs=(kernel/crypto kernel/arch/x86/crypto kernel/lib/crypto kernel/net/sched)

# Copy a file and, for ELF files, the shared libraries it needs, keeping host paths.
copy_with_libs() { # STAGE FILE [DEST]
    local stage=$1 f=$2 dest=${3:-$2} lib
    mkdir -p "$stage$(dirname "$dest")"
    cp -L "$f" "$stage$dest"
    if ldd "$f" 2>/dev/null | grep -q 'not found'; then
        die "$f needs libraries missing on the host: $(ldd "$f" | grep 'not found' | tr -s ' \t\n' ' ')"
    fi
    ldd "$f" 2>/dev/null | awk '/=> \//{print $3} /^\t\/.*ld-linux/{print $1}' |
    while read -r lib; do
        # Canonical directory (/lib -> /usr/lib on usrmerged hosts): an archive entry
        # for a real /lib directory would replace the guest's /lib symlink.
        lib=$(readlink -f "$(dirname "$lib")")/$(basename "$lib")
        [ -e "$stage$lib" ] && continue
        mkdir -p "$stage$(dirname "$lib")"
        cp -L "$lib" "$stage$lib"
    done
}

make_cpio() { # STAGE OUTFILE
    (cd "$1" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0) > "$2"
}

pkg_versions() {
    dpkg-query -W -f='${Package}=${Version}\n' busybox-static iproute2 iputils-ping kmod \
        util-linux snmpd snmp snmptrapd libsnmp40 libc6 strongswan-charon strongswan-swanctl \
        libstrongswan libstrongswan-standard-plugins libssl3 2>/dev/null || true
}

# ---- base archive (cached per kernel + builder + host package versions) ----
key=$( { cat "$0"; echo "$kver"; pkg_versions; } | sha256sum | cut -c1-16)
base=$cache/initramfs/base-$kver-$key.cpio
if [ ! -f "$base" ]; then
    log "building base archive for $kver"
    mkdir -p "$cache/initramfs"
    stage=$(mktemp -d "$cache/initramfs/.stage.XXXXXX")
    trap 'rm -rf "$stage"' EXIT
    # usrmerge layout, like the host the binaries come from.
    mkdir -p "$stage"/usr/{bin,sbin,lib,lib64} "$stage"/{proc,sys,dev,run,tmp,etc,root,var}
    ln -s usr/bin "$stage/bin"; ln -s usr/sbin "$stage/sbin"
    ln -s usr/lib "$stage/lib"; ln -s usr/lib64 "$stage/lib64"
    ln -s ../run "$stage/var/run"
    for b in "${host_bins[@]}"; do copy_with_libs "$stage" "$b"; done
    for p in "$strongswan_plugins"/libstrongswan-*.so; do copy_with_libs "$stage" "$p"; done
    for l in modprobe insmod rmmod lsmod depmod modinfo; do ln -s ../bin/kmod "$stage/usr/sbin/$l"; done
    cp /bin/busybox "$stage/usr/bin/busybox"
    # busybox applets for everything the real tools above do not provide.
    /bin/busybox --list-full | while read -r app; do
        p=$stage/usr/${app#usr/}
        [ -e "$p" ] || [ -L "$p" ] || ln -s /usr/bin/busybox "$p"
    done
    # net-snmp: MIBs shipped with libsnmp-base (small), so clients can print names.
    if [ -d /usr/share/snmp/mibs ]; then
        mkdir -p "$stage/usr/share/snmp"; cp -r /usr/share/snmp/mibs "$stage/usr/share/snmp/"
    fi
    for f in /etc/protocols /etc/services; do [ -f "$f" ] && cp "$f" "$stage$f"; done
    printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' > "$stage/etc/passwd"
    printf 'root:x:0:\nnogroup:x:65534:\n' > "$stage/etc/group"
    printf '127.0.0.1 localhost\n::1 localhost\n' > "$stage/etc/hosts"
    mknod -m 600 "$stage/dev/console" c 5 1 2>/dev/null || true

    # Kernel modules: the closure of $modules plus whole directories, decompressed
    # (.ko.xz/.ko.zst -> .ko: faster to load under TCG and any modprobe can read them),
    # then depmod on the staged tree.
    mstage=$stage/usr/lib/modules/$kver
    mkdir -p "$mstage"
    cp "$mods_src"/modules.{order,builtin,builtin.modinfo} "$mstage/"
    {
        for m in "${modules[@]}"; do
            modprobe -d "$kdir/root" -S "$kver" --show-depends "$m" 2>/dev/null |
                awk '$1=="insmod"{print $2}'
        done
        for d in "${mod_dirs[@]}"; do
            [ -d "$mods_src/$d" ] && find "$mods_src/$d" -name '*.ko*'
        done
    } | sort -u | while read -r ko; do
        rel=${ko#"$mods_src"/}
        mkdir -p "$mstage/$(dirname "$rel")"
        case $ko in
            *.ko.xz)  xz -dc "$ko" > "$mstage/${rel%.xz}" ;;
            *.ko.zst) zstd -qdc "$ko" > "$mstage/${rel%.zst}" ;;
            *.ko.gz)  gzip -dc "$ko" > "$mstage/${rel%.gz}" ;;
            *)        cp "$ko" "$mstage/$rel" ;;
        esac
    done
    sed -i 's/\.ko\.\(xz\|zst\|gz\)$/.ko/' "$mstage/modules.order"
    depmod -b "$stage" "$kver"
    for m in "${modules[@]}"; do
        modprobe -d "$stage" -S "$kver" --show-depends "$m" >/dev/null 2>&1 ||
            die "module $m not found in kernel $kver"
    done
    make_cpio "$stage" "$base.tmp.$$"
    mv "$base.tmp.$$" "$base"
    rm -rf "$stage"; trap - EXIT
    # Older bases of this kernel are stale.
    find "$cache/initramfs" -maxdepth 1 -name "base-$kver-*.cpio" ! -name "${base##*/}" -delete
else
    log "cached base archive $base"
fi

# ---- payload archive (per run) ----
pstage=$(mktemp -d)
trap 'rm -rf "$pstage"' EXIT
mkdir -p "$pstage/lab" "$pstage/usr/local/bin"
cp "$here/guest/init" "$pstage/init"
cp "$here/guest/lib.sh" "$pstage/lab/lib.sh"
cp "$scenario" "$pstage/lab/scenario.sh"
# All scenarios too, so one scenario can source parts of others (/lab/scenarios/*.sh).
mkdir -p "$pstage/lab/scenarios"
cp "$here"/scenarios/*.sh "$pstage/lab/scenarios/"
chmod 755 "$pstage/init" "$pstage/lab/scenario.sh"
copy_with_libs "$pstage" "$agent" /usr/local/bin/vti-agentx
for b in ${extra_bins[@]+"${extra_bins[@]}"}; do
    copy_with_libs "$pstage" "$b" "/usr/local/bin/$(basename "$b")"
done
make_cpio "$pstage" "$out.payload"
cat "$base" "$out.payload" > "$out"
rm -f "$out.payload"
log "initramfs $out ($(du -h "$out" | cut -f1))"
