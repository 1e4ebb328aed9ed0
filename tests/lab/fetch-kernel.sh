#!/usr/bin/env bash
# Fetch a Debian cloud-amd64 kernel of one series into the lab cache, extract it and
# generate modules.dep. Idempotent: a kernel already in the cache is reused as is.
#
#   tests/lab/fetch-kernel.sh 6.1|6.12
#
# Prints the kernel directory (…/kernels/<version>) on the last line of stdout. That
# directory holds vmlinuz, version and root/lib/modules/<version>/ (depmod'ed).
# Never touches the host's /boot or /lib/modules.
#
# Env: VTI_LAB_CACHE (default <repo>/.lab-cache); VTI_LAB_KERNEL_PKG_<series with _>
# (e.g. VTI_LAB_KERNEL_PKG_6_12=linux-image-6.12.115+deb12-cloud-amd64) pins a package.
set -euo pipefail

series=${1:?usage: fetch-kernel.sh 6.1|6.12}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cache=${VTI_LAB_CACHE:-$repo/.lab-cache}
kdir_root=$cache/kernels
mkdir -p "$kdir_root"

log() { echo "fetch-kernel[$series]: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

for tool in apt-get apt-cache dpkg depmod; do
    command -v "$tool" >/dev/null 2>&1 ||
        die "$tool not found; install with: apt-get install -y kmod (depmod), apt/dpkg"
done

# Newest cloud-amd64 package of the series. The Debian meta-packages track the newest
# signed image: linux-image-cloud-amd64 (6.1 on bookworm), linux-image-6.12-cloud-amd64.
resolve_pkg() {
    local pin_var="VTI_LAB_KERNEL_PKG_${series//./_}"
    if [ -n "${!pin_var:-}" ]; then echo "${!pin_var}"; return; fi
    local meta dep
    case $series in
        6.1) meta=linux-image-cloud-amd64 ;;
        *)   meta=linux-image-$series-cloud-amd64 ;;
    esac
    dep=$(apt-cache depends "$meta" 2>/dev/null |
          sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-cloud-amd64\)$/\1/p' | head -n1)
    case $dep in
        linux-image-"$series".*) echo "$dep"; return ;;
    esac
    # Fallback: version-sort the signed package names of the series.
    apt-cache search --names-only "^linux-image-${series//./\\.}[.][0-9].*-cloud-amd64\$" 2>/dev/null |
        awk '{print $1}' | sort -V | tail -n1
}

pkg=$(resolve_pkg || true)
if [ -z "$pkg" ]; then
    # No package lists (offline, no apt-get update): reuse the newest cached kernel.
    cached=$(find "$kdir_root" -mindepth 1 -maxdepth 1 -type d -name "$series.*" -printf '%f\n' |
             sort -V | tail -n1)
    if [ -z "$cached" ] || [ ! -f "$kdir_root/$cached/.complete" ]; then
        die "no linux-image-$series.*-cloud-amd64 package known to apt and none cached; run: apt-get update"
    fi
    log "apt knows no package; reusing cached $cached"
    echo "$kdir_root/$cached"
    exit 0
fi
kver=${pkg#linux-image-}
kdir=$kdir_root/$kver
if [ -f "$kdir/.complete" ]; then
    log "cached: $kdir"
    echo "$kdir"
    exit 0
fi

log "downloading $pkg"
tmp=$(mktemp -d "$kdir_root/.tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
chown _apt "$tmp" 2>/dev/null || true  # apt downloads as _apt when it can
(cd "$tmp" && apt-get download -q "$pkg" >&2) ||
    die "apt-get download $pkg failed (run apt-get update?)"
deb=$(ls "$tmp"/*.deb)
mkdir -p "$tmp/root"
dpkg -x "$deb" "$tmp/root"
vmlinuz=$tmp/root/boot/vmlinuz-$kver
[ -f "$vmlinuz" ] || die "no /boot/vmlinuz-$kver in $pkg"
[ -d "$tmp/root/lib/modules/$kver" ] || die "no /lib/modules/$kver in $pkg"
depmod -b "$tmp/root" "$kver"
mv "$vmlinuz" "$tmp/vmlinuz"
rm -rf "$tmp/root/boot" "$tmp/root/usr" "$deb"
echo "$kver" > "$tmp/version"
rm -rf "$kdir"
touch "$tmp/.complete"
mv "$tmp" "$kdir"
trap - EXIT
log "ready: $kdir"
echo "$kdir"
