#!/usr/bin/env bash
# The whole test suite: the README's test command and what .ci/run calls.
#
# Installs what the tests need on Debian 12 (when run as root, or with sudo),
# then runs formatting and lint checks and every test: codec and unit tests,
# real-snmpd integration tests, the MIB lint, and the QEMU real-kernel lab.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(snmpd snmp snmptrapd smitools qemu-system-x86 busybox-static kmod cpio xz-utils
          iproute2 util-linux iputils-ping dpkg-dev lintian systemd fakeroot man-db
          prometheus-snmp-exporter python3 strongswan-charon strongswan-swanctl
          libstrongswan-standard-plugins)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
    echo "==> installing: ${missing[*]}"
    sudo_cmd=()
    [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
    "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi
# The lab downloads Debian kernels with `apt-get download`: it needs package lists.
if ! ls /var/lib/apt/lists/*Packages* >/dev/null 2>&1; then
    echo "==> apt-get update (the QEMU lab fetches kernels through apt)"
    sudo_cmd=()
    [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
    "${sudo_cmd[@]}" apt-get update -qq
fi
# The packaged snmpd starts itself on install; our tests run private ones.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet snmpd 2>/dev/null; then
    echo "note: a system snmpd is running; the tests use their own on other sockets/ports"
fi

echo "==> cargo fmt --check"
cargo fmt --all -- --check
echo "==> cargo clippy"
cargo clippy --all-targets --quiet -- -D warnings
echo "==> cargo test"
cargo test --all-targets -- --test-threads="${TEST_THREADS:-2}"
