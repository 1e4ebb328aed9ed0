#!/usr/bin/env bash
# Builds the Debian package target/debian/vti-agentx_<version>-<rev>_<arch>.deb.
#
#   packaging/build-deb.sh [--binary PATH] [--out DIR]
#
#   --binary PATH  package this vti-agentx binary instead of running
#                  `cargo build --release` (also: VTI_AGENTX_BINARY=PATH);
#                  tests/package.rs passes the debug build. It is stripped
#                  in the package either way.
#   --out DIR      where the .deb goes (default target/debian).
#
# Env: DEB_REVISION (default 1; must match packaging/debian/changelog),
#      DEB_MAINTAINER ("Name <address>", default the changelog's),
#      DEB_COMPRESSION (dpkg-deb -Z: xz (default), gzip, zstd, none),
#      SOURCE_DATE_EPOCH (default: the changelog's date; file times are
#      clamped to it, so two builds of the same binary are identical).
# Needs: dpkg-deb, dpkg-shlibdeps (dpkg-dev), strip (binutils), cargo.
# Prints the path of the .deb as the last line on stdout.
#
# Why plain dpkg-deb and not cargo-deb: everything cargo-deb would automate
# here (file list, modes, conffiles, shlibs) is a few lines below, while the
# parts that need care -- maintainer scripts that work in a chroot and with
# DPKG_ROOT, the snmpd snippet, the systemd unit, the man page -- would be
# hand-written files either way. Plain dpkg-deb adds no build dependency
# outside Debian's own dpkg-dev, and the package is exactly what this script
# says.
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
pkgdir="$repo/packaging"
binary="${VTI_AGENTX_BINARY:-}"
out="$repo/target/debian"

while (($#)); do
    case "$1" in
    --binary) binary="${2:?--binary needs a path}"; shift 2 ;;
    --out) out="${2:?--out needs a directory}"; shift 2 ;;
    -h | --help) sed -n '2,19s/^# \{0,1\}//p' "$0"; exit 0 ;;
    *) echo "build-deb.sh: unknown argument: $1" >&2; exit 2 ;;
    esac
done

die() { echo "build-deb.sh: $*" >&2; exit 1; }
for tool in dpkg-deb dpkg-shlibdeps strip gzip; do
    command -v "$tool" >/dev/null || die "$tool not found (apt-get install -y dpkg-dev binutils)"
done
cargo="${CARGO:-cargo}"

# --- version: Cargo.toml's [package] version + the Debian revision --------
upstream="$(awk -F'"' '/^\[/ { pkg = ($0 == "[package]") } pkg && /^version *=/ { print $2; exit }' "$repo/Cargo.toml")"
[ -n "$upstream" ] || die "no [package] version in Cargo.toml"
version="$upstream-${DEB_REVISION:-1}"
changelog="$pkgdir/debian/changelog"
changelog_version="$(sed -n '1s/^vti-agentx (\([^)]*\)).*/\1/p' "$changelog")"
[ "$changelog_version" = "$version" ] ||
    die "packaging/debian/changelog starts with $changelog_version, not $version: add an entry"
changelog_date="$(sed -n 's/^ -- .*>  \(.*\)$/\1/p' "$changelog" | head -n1)"
changelog_maintainer="$(sed -n 's/^ -- \(.*>\)  .*$/\1/p' "$changelog" | head -n1)"
maintainer="${DEB_MAINTAINER:-$changelog_maintainer}"
export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-$(date -u -d "$changelog_date" +%s)}"
man_date="$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%d)"
arch="${DEB_ARCH:-$(dpkg --print-architecture)}"

# --- the binary ------------------------------------------------------------
if [ -z "$binary" ]; then
    (cd "$repo" && "$cargo" build --release --locked) >&2
    binary="$repo/target/release/vti-agentx"
fi
[ -x "$binary" ] || die "not an executable: $binary"

mkdir -p "$out"
out="$(cd "$out" && pwd)"
work="$(mktemp -d "$out/.build.XXXXXX")"
trap 'rm -rf "$work"' EXIT
root="$work/root"

# --- the tree --------------------------------------------------------------
install -d -m 0755 "$root/DEBIAN" "$root/usr/sbin" "$root/etc/vti-agentx" \
    "$root/etc/snmp/snmpd.conf.d" "$root/usr/share/snmp/mibs" \
    "$root/lib/systemd/system" "$root/usr/lib/sysusers.d" \
    "$root/usr/share/doc/vti-agentx" "$root/usr/share/man/man8" "$root/usr/libexec/vti-agentx"

# As dh_strip does for executables (debug symbols and .comment/.note go).
strip --remove-section=.comment --remove-section=.note -o "$root/usr/sbin/vti-agentx" "$binary"
chmod 0755 "$root/usr/sbin/vti-agentx"

install -m 0644 "$pkgdir/config.toml" "$root/etc/vti-agentx/config.toml"
# Debian 12's snmpd.conf (package snmpd) ends with
# "includeDir /etc/snmp/snmpd.conf.d": snmpd reads this snippet after it.
install -m 0644 "$pkgdir/snmpd-vti-agentx.conf" "$root/etc/snmp/snmpd.conf.d/vti-agentx.conf"
install -m 0644 "$repo/mibs/IPSEC-VTI-MIB.txt" "$root/usr/share/snmp/mibs/IPSEC-VTI-MIB.txt"
install -m 0644 "$pkgdir/vti-agentx.service" "$root/lib/systemd/system/vti-agentx.service"
install -m 0644 "$pkgdir/vti-agentx.sysusers" "$root/usr/lib/sysusers.d/vti-agentx.conf"
# VyOS: keeps the package and config under /config across image upgrades.
install -m 0755 "$pkgdir/vyos/vyos-persist" "$root/usr/libexec/vti-agentx/vyos-persist"

sed -e "s/@VERSION@/$upstream/g" -e "s/@DATE@/$man_date/g" "$pkgdir/vti-agentx.8.in" |
    gzip -9n >"$root/usr/share/man/man8/vti-agentx.8.gz"

doc="$root/usr/share/doc/vti-agentx"
gzip -9n <"$changelog" >"$doc/changelog.Debian.gz"
gzip -9n <"$repo/README.md" >"$doc/README.md.gz"
gzip -9n <"$pkgdir/README.md" >"$doc/README.Debian.gz"
# The crates linked into the binary, from Cargo.lock (proc macros and build
# tools are not in the binary).
crates="$(cd "$repo" && "$cargo" tree --offline --locked -e normal,no-proc-macro \
    --prefix none --format '{p}: {l}' |
    sed -e 's/ (.*)//' -e '/^vti-agentx v/d' | sort -u | sed 's/^/ /')"
[ -n "$crates" ] || die "cargo tree listed no crates"
awk -v crates="$crates" '$0 == "@CRATES@" { print crates; next } { print }' \
    "$pkgdir/debian/copyright.in" >"$doc/copyright"
chmod 0644 "$doc"/*

# --- control files ---------------------------------------------------------
printf '%s\n' /etc/vti-agentx/config.toml /etc/snmp/snmpd.conf.d/vti-agentx.conf \
    >"$root/DEBIAN/conffiles"
for script in postinst prerm postrm; do
    install -m 0755 "$pkgdir/debian/$script" "$root/DEBIAN/$script"
done

# Shared library dependencies of the binary, as dh_shlibdeps computes them.
mkdir -p "$work/shlibs/debian"
printf 'Source: vti-agentx\n\nPackage: vti-agentx\nArchitecture: any\n' \
    >"$work/shlibs/debian/control"
shlibs="$(cd "$work/shlibs" && dpkg-shlibdeps -O "$root/usr/sbin/vti-agentx" 2>/dev/null |
    sed -n 's/^shlibs:Depends=//p')"
[ -n "$shlibs" ] || die "dpkg-shlibdeps found no dependencies for the binary"

# dpkg-gencontrol's rule: KiB per file rounded up, 1 per directory.
installed_size="$(cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%s\n' |
    awk '{ kib += int(($1 + 1023) / 1024) } END { print kib }')"
dirs="$(cd "$root" && find . -path ./DEBIAN -prune -o -type d -print | wc -l)"
installed_size=$((installed_size + dirs))

cat >"$root/DEBIAN/control" <<EOF
Package: vti-agentx
Version: $version
Architecture: $arch
Maintainer: $maintainer
Installed-Size: $installed_size
Depends: adduser, $shlibs
Recommends: snmpd
Suggests: snmp
Section: net
Priority: optional
Description: SNMP subagent that explains TX errors of IPsec tunnel interfaces
 vti-agentx is an AgentX (RFC 2741) subagent for the net-snmp agent (snmpd).
 It reads the transmit error counters of Linux IPsec tunnel interfaces (vti,
 vti6 and xfrm), the XFRM security associations and policies, and classifies
 every error: no route, policy or SA to the peer, routing loop, packet too
 big, failure after encryption, drops in the underlay. It diagnoses the cause
 with the route, policy and SA look-ups an operator would run by hand.
 .
 Everything is served as IPSEC-VTI-MIB through snmpd, with RMON-style
 threshold notifications (traps) and SA up, down and expiry notifications.
 The package runs it as a hardened systemd service with only CAP_NET_ADMIN
 and configures snmpd's AgentX socket for it.
EOF

(cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\n' |
    grep -v -x -F -f <(sed 's|^/||' DEBIAN/conffiles) | LC_ALL=C sort |
    xargs md5sum) >"$root/DEBIAN/md5sums"
chmod 0644 "$root/DEBIAN/control" "$root/DEBIAN/conffiles" "$root/DEBIAN/md5sums"

# Reproducible: every mtime is the changelog's date (dpkg-deb also clamps
# to SOURCE_DATE_EPOCH), owner root:root.
find "$root" -exec touch --no-dereference --date="@$SOURCE_DATE_EPOCH" {} +

deb="$out/vti-agentx_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Z"${DEB_COMPRESSION:-xz}" --build "$root" "$deb" >&2
echo "$deb"
